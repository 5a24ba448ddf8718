import { lang, t } from '../i18n.ts';
import { el, formatT, type Store } from '../store.ts';

/** Title, source badge, replay controls (play/pause, speed, scrub) and the language switch. */
export function createHeader(root: HTMLElement, store: Store, onLang: () => void) {
  const title = el('h1');
  const badge = el('span', { class: 'badge', id: 'mode' });
  const play = el('button', { id: 'play' });
  const speed = el('select', { id: 'speed' });
  for (const s of [0.5, 1, 2, 5, 10, 30, 60]) speed.append(el('option', { value: String(s) }, `×${s}`));
  const scrub = el('input', { type: 'range', id: 'scrub', min: '0', max: '1000', step: '100', value: '0' });
  const time = el('span', { class: 'time', id: 'time' });
  const langButton = el('button', { id: 'lang' });
  // Projector mode: large type, high contrast, thicker marks (a class on <body>; kept in localStorage).
  const projector = el('button', { id: 'projector', 'aria-pressed': 'false' });
  const setProjector = (on: boolean) => {
    document.body.classList.toggle('projector', on);
    projector.setAttribute('aria-pressed', String(on));
    try {
      localStorage.setItem('cpnet-projector', on ? '1' : '0');
    } catch {
      /* storage refused: the mode lasts this page only */
    }
    window.dispatchEvent(new Event('resize'));
  };
  projector.addEventListener('click', () => setProjector(!document.body.classList.contains('projector')));
  try {
    if (localStorage.getItem('cpnet-projector') === '1' || new URLSearchParams(location.search).has('projector'))
      setProjector(true);
  } catch {
    /* no storage */
  }
  root.append(title, badge, play, speed, scrub, time, projector, langButton);
  play.addEventListener('click', () => store.setPlaying(!store.playing));
  speed.addEventListener('change', () => store.setSpeed(Number(speed.value)));
  scrub.addEventListener('input', () => store.seek(Number(scrub.value)));
  langButton.addEventListener('click', onLang);

  function relabel(): void {
    title.textContent = t('title');
    document.title = t('title');
    langButton.textContent = t('language');
    projector.textContent = t('projector');
    langButton.setAttribute('aria-label', lang() === 'zh' ? 'Switch to English' : '切换到中文');
    speed.setAttribute('aria-label', t('speed'));
    scrub.setAttribute('aria-label', t('time'));
  }
  relabel();
  return {
    relabel,
    update(): void {
      const replay = store.mode === 'replay';
      badge.className = `badge ${store.mode}`;
      badge.textContent =
        store.mode === 'live'
          ? `${t('live')} · ${store.liveUrl ?? ''} · ${t(store.liveStatus as 'connected') ?? store.liveStatus}`
          : store.mode === 'replay'
            ? `${t('replay')} · ${store.recording?.header.scenario ?? ''}`
            : t('none');
      play.textContent = store.playing ? `❚❚ ${t('pause')}` : `▶ ${t('play')}`;
      play.disabled = !replay;
      speed.disabled = !replay;
      scrub.disabled = !replay;
      speed.value = String(store.speed);
      scrub.max = String(Math.max(1, Math.round(store.duration)));
      if (document.activeElement !== scrub) scrub.value = String(Math.round(store.state.t));
      // One clock on the page: the network's virtual time since the start (of the scenario in a simulation, of the
      // recording in replay), in minutes as the CLI's log prints it, with its speed; lists and the timeline use it too.
      const minutes = (ms: number) => `${(Math.max(0, ms) / 60_000).toFixed(1)} ${t('minutes')}`;
      const rate =
        store.mode === 'replay'
          ? `${t('playback')} ×${store.speed}`
          : store.clockSpeed === 'max'
            ? t('speedMax')
            : store.clockSpeed !== null
              ? `×${store.clockSpeed}`
              : '';
      time.textContent =
        `${t('virtualTime')} ${minutes(store.state.t)}` +
        (replay ? ` / ${minutes(store.duration)}` : '') +
        (rate ? ` · ${rate}` : '');
      time.title = `${formatT(store.state.t)} · ${store.state.at}`;
    },
  };
}
