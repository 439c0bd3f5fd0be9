// Keeps the runs list current: polls its JSON every 2 s while the tab is visible and redraws the rows with text only.
(function () {
  'use strict';
  var table = document.querySelector('table[data-live]');
  if (!table || !window.fetch) return;
  var url = table.getAttribute('data-live');
  var base = table.getAttribute('data-base');
  var body = table.tBodies[0];
  var empty = document.querySelector('.empty');
  var live = document.getElementById('live');
  if (live) live.hidden = false;

  function td(text, cls) {
    var c = document.createElement('td');
    if (cls) c.className = cls;
    c.textContent = text;
    return c;
  }
  function link(text, href, cls) {
    var a = document.createElement('a');
    a.href = href;
    if (cls) a.className = cls;
    a.textContent = text;
    return a;
  }
  function row(r, known) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-id', r.id);
    tr.setAttribute('data-status', r.status);
    var href = base + '/runs/' + encodeURIComponent(r.id);
    var status = td('');
    status.appendChild(link(r.status, href, 'badge st-' + r.status));
    tr.appendChild(status);
    var scenario = td('', 'c-scenario');
    scenario.appendChild(link(r.scenario, href));
    tr.appendChild(scenario);
    tr.appendChild(td(r.trigger, 'c-trigger'));
    tr.appendChild(td(r.started, 'c-time'));
    tr.appendChild(td(r.duration, 'num'));
    tr.appendChild(td(String(r.attempt), 'num c-attempt'));
    tr.appendChild(td(r.error, 'c-error'));
    if (!known) tr.className = 'fresh';
    return tr;
  }
  function render(items) {
    var known = {};
    for (var i = 0; i < body.rows.length; i++) known[body.rows[i].getAttribute('data-id') + '/' + body.rows[i].getAttribute('data-status')] = true;
    var frag = document.createDocumentFragment();
    items.forEach(function (r) { frag.appendChild(row(r, known[r.id + '/' + r.status])); });
    body.textContent = '';
    body.appendChild(frag);
    if (empty) empty.hidden = items.length > 0;
  }
  function poll() {
    if (document.hidden) return later();
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (j) { if (j && j.items) render(j.items); })
      .catch(function () {})
      .then(later);
  }
  function later() { setTimeout(poll, 2000); }
  later();
})();
