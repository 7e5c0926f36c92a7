import { onBeforeUnmount, ref } from 'vue';

/** Reactive window.matchMedia(query).matches. */
export function useMedia(query) {
  const mq = window.matchMedia(query);
  const matches = ref(mq.matches);
  const on = (e) => { matches.value = e.matches; };
  mq.addEventListener('change', on);
  onBeforeUnmount(() => mq.removeEventListener('change', on));
  return matches;
}
