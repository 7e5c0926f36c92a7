/* embed.c: turn a file into a C array (used by the build to put openapi.json into the
 * binary). usage: embed FILE SYMBOL OUT.c */
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: embed FILE SYMBOL OUT.c\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[3], "w");
	if (!in || !out) {
		perror("embed");
		return 1;
	}
	fprintf(out, "#include <stddef.h>\nconst unsigned char %s[] = {\n", argv[2]);
	int c;
	size_t n = 0;
	while ((c = fgetc(in)) != EOF)
		fprintf(out, "%d,%s", c, ++n % 20 ? "" : "\n");
	fprintf(out, "0};\nconst size_t %s_len = %zu;\n", argv[2], n);
	fclose(in);
	return fclose(out) ? 1 : 0;
}
