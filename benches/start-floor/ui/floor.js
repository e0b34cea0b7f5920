// After the first frame is drawn, tell the shell (as ui/js/app.js does).
requestAnimationFrame(() => setTimeout(() => {
  window.__TAURI__.core.invoke('ready', { screen: 'floor', originMs: performance.timeOrigin, marks: [] });
}, 0));
