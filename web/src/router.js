import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';
import { ready } from './session.js';

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/', name: 'home', component: HomeView },
    { path: '/search', name: 'search', component: () => import('./views/SearchView.vue') },
    { path: '/items/:code', name: 'item', component: () => import('./views/GuideView.vue') },
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue') },
    { path: '/staff/login', name: 'staff-login', component: () => import('./views/LoginView.vue'), props: { staff: true } },
    { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue') },
    { path: '/account', name: 'account', component: () => import('./views/AccountView.vue'), meta: { auth: true } },
    { path: '/consent', name: 'consent', component: () => import('./views/ConsentView.vue'), meta: { auth: true } },
    { path: '/apply/:impl_code', name: 'apply', component: () => import('./views/ApplyView.vue'), meta: { auth: true } },
    { path: '/drafts/:id', name: 'draft', component: () => import('./views/ApplyView.vue'), meta: { auth: true } },
    { path: '/cases/:case_no/receipt', name: 'receipt', component: () => import('./views/ReceiptView.vue'), meta: { auth: true } },
    { path: '/cases/:case_no', name: 'case', component: () => import('./views/CaseView.vue'), meta: { auth: true } },
    { path: '/my/cases', name: 'my-cases', component: () => import('./views/MyCasesView.vue'), meta: { auth: true } },
    { path: '/my/messages', name: 'my-messages', component: () => import('./views/MessagesView.vue'), meta: { auth: true } },
    { path: '/workbench', name: 'workbench', component: () => import('./views/WorkbenchView.vue'), meta: { auth: 'staff' } },
    { path: '/workbench/cases/:case_no', name: 'staff-case', component: () => import('./views/StaffCaseView.vue'), meta: { auth: 'staff' } },
    { path: '/workbench/window', name: 'window', component: () => import('./views/WindowView.vue'), meta: { auth: 'staff' } },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
  ],
  scrollBehavior(to, from, saved) {
    if (saved) return saved;
    if (to.hash) return { el: to.hash, top: 80 };
    if (to.path === from.path) return false;
    return { top: 0 };
  },
});

// Pages that need a session send an anonymous visitor to log in first, and back after.
router.beforeEach(async (to) => {
  if (!to.meta.auth) return true;
  const s = await ready();
  const staffPage = to.meta.auth === 'staff';
  if (s.authenticated && (!staffPage || (s.user && s.user.kind === 'staff'))) return true;
  return { path: staffPage ? '/staff/login' : '/login', query: { next: to.fullPath } };
});
