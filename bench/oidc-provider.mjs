// The reference for the token endpoint benchmark: node's oidc-provider (a certified
// OpenID Provider) on loopback, with one confidential client allowed the
// client_credentials grant, the same grant the benchmark drives on tongban.
//   node bench/oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET
// Prints "listening PORT" once it accepts connections. Tokens are opaque and kept in
// oidc-provider's default in-memory adapter (tongban writes each one to its database).
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  scopes: ['profile'],
  ttl: { ClientCredentials: 600 },
});
provider.proxy = false;
// oidc-provider logs a warning per request about its development keys: quiet them
// (the keys are generated at start, like tongban's).
process.on('warning', () => {});
const server = provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
server.keepAliveTimeout = 60000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
