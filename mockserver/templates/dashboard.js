// The debitura-mock dashboard: its buttons and forms call the /__mock/ control API with fetch()
// and JSON (the admin guard wants Content-Type: application/json and the mock's own Origin),
// then reload the page. No other script runs on the page (Content-Security-Policy script-src 'self').
(function () {
  'use strict';
  function show(msg) {
    var e = document.getElementById('dashboard-error');
    e.textContent = msg;
    e.hidden = false;
  }
  async function send(method, url, body) {
    var init = { method: method, headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) init.body = JSON.stringify(body);
    var res = await fetch(url, init);
    if (!res.ok) {
      var msg = method + ' ' + url + ': ' + res.status;
      try { var j = await res.json(); if (j && j.message) msg += ' ' + j.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
  }
  function done() { location.reload(); }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-url]');
    if (!b) return;
    ev.preventDefault();
    if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
    var body = b.dataset.body ? JSON.parse(b.dataset.body) : undefined;
    b.disabled = true;
    send(b.dataset.method || 'POST', b.dataset.url, body).then(done, function (e) { b.disabled = false; show(e.message); });
  });
  document.addEventListener('submit', function (ev) {
    var f = ev.target;
    if (!f.dataset.url) return;
    ev.preventDefault();
    var body = {};
    for (var i = 0; i < f.elements.length; i++) {
      var el = f.elements[i];
      if (!el.name) continue;
      if (el.type === 'checkbox') { if (el.checked) body[el.name] = true; continue; }
      if (el.value === '') continue;
      body[el.name] = el.type === 'number' ? Number(el.value) : el.value;
    }
    send(f.dataset.method || 'POST', f.dataset.url, body).then(done, function (e) { show(e.message); });
  });
})();
