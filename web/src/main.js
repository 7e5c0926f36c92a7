import { createApp } from 'vue';
import {
  ElBadge, ElButton, ElInput, ElCheckbox, ElConfigProvider, ElDialog, ElDrawer, ElPagination,
  ElSkeleton, ElTabPane, ElTabs, ElTable, ElTableColumn, ElTag, ElTimeline, ElTimelineItem,
} from 'element-plus';
import 'element-plus/dist/index.css';
import './style.css';
import App from './App.vue';
import { router } from './router.js';
import { installPrefs } from './prefs.js';
import { loadSession } from './session.js';

installPrefs();
loadSession();

const app = createApp(App);
for (const c of [ElBadge, ElButton, ElInput, ElCheckbox, ElConfigProvider, ElDialog, ElDrawer,
  ElPagination, ElSkeleton, ElTabPane, ElTabs, ElTable, ElTableColumn, ElTag, ElTimeline, ElTimelineItem]) {
  app.use(c);
}
app.use(router);
app.mount('#app');
