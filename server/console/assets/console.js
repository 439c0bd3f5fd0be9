// Keeps the runs list current: polls its JSON every 2 s while the tab is visible. Rows are changed in place and only
// when their data changed, so keyboard focus and a text selection in the list survive the updates; new rows are
// inserted above and announced to screen readers. The counts above the list follow, and the "live" badge says
// "offline" while the server does not answer (or refuses the login). Text only: never HTML.
(function () {
  'use strict';
  var table = document.querySelector('table[data-live]');
  if (!table || !window.fetch) return;
  var url = table.getAttribute('data-live');
  var base = table.getAttribute('data-base') || '';
  var body = table.tBodies[0];
  var empty = document.querySelector('.empty');
  var live = document.getElementById('live');
  var news = document.getElementById('live-news');
  var lastText = null;
  var lastAt = null;
  if (live) live.hidden = false;

  function keyOf(r) { return r.id || 'job:' + r.jobId; }
  function cell(cls) {
    var c = document.createElement('td');
    if (cls) c.className = cls;
    return c;
  }
  function link(cls) {
    var a = document.createElement('a');
    if (cls) a.className = cls;
    return a;
  }
  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  // Data is drawn as the page draws it (bidi-text.ts, the outcome macro): each bidirectional control character (a
  // right-to-left override U+202E, an embedding, an isolate, a mark) as a visible token, never obeyed, and each value
  // inside the outcome's words isolated in <bdi>, so that neither can reorder the rest of the row.
  var BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  var BIDI_NAMES = {
    '\u061c': 'ARABIC LETTER MARK', '\u200e': 'LEFT-TO-RIGHT MARK', '\u200f': 'RIGHT-TO-LEFT MARK',
    '\u202a': 'LEFT-TO-RIGHT EMBEDDING', '\u202b': 'RIGHT-TO-LEFT EMBEDDING', '\u202c': 'POP DIRECTIONAL FORMATTING',
    '\u202d': 'LEFT-TO-RIGHT OVERRIDE', '\u202e': 'RIGHT-TO-LEFT OVERRIDE', '\u2066': 'LEFT-TO-RIGHT ISOLATE',
    '\u2067': 'RIGHT-TO-LEFT ISOLATE', '\u2068': 'FIRST STRONG ISOLATE', '\u2069': 'POP DIRECTIONAL ISOLATE'
  };
  function codeLabel(c) { return 'U+' + ('000' + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4); }
  function appendData(el, text) {
    var start = 0;
    text.replace(BIDI, function (c, at) {
      if (at > start) el.appendChild(document.createTextNode(text.slice(start, at)));
      var t = document.createElement('span');
      t.className = 'bidi-char';
      t.title = codeLabel(c) + ' ' + BIDI_NAMES[c];
      t.textContent = codeLabel(c);
      el.appendChild(t);
      start = at + 1;
      return c;
    });
    if (start < text.length) el.appendChild(document.createTextNode(text.slice(start)));
  }
  // parts: [text] for words, [text, 1] for a value (isolated). Redrawn only when they changed; what the page drew
  // already is kept as it is (a text selection in it survives the first update).
  function setParts(el, parts) {
    var key = JSON.stringify(parts);
    if (el.bidiParts === key) return;
    if (el.bidiParts === undefined) {
      var shown = parts.map(function (p) { return p[0].replace(BIDI, codeLabel); }).join('');
      var values = parts.filter(function (p) { return p[1]; }).length;
      var drawn = el.querySelectorAll('bdi').length;
      el.bidiParts = key;
      if (el.textContent === shown && drawn === values) return;
    }
    el.bidiParts = key;
    while (el.firstChild) el.removeChild(el.firstChild);
    parts.forEach(function (p) {
      var into = el;
      if (p[1]) into = el.appendChild(document.createElement('bdi'));
      appendData(into, p[0]);
    });
  }
  function setData(el, text) { setParts(el, text ? [[text]] : []); }
  function setAttr(el, name, value) { if (el.getAttribute(name) !== value) el.setAttribute(name, value); }

  function newRow() {
    var tr = document.createElement('tr');
    var status = cell('');
    status.appendChild(link('badge'));
    tr.appendChild(status);
    var scenario = cell('c-scenario');
    scenario.appendChild(link(''));
    tr.appendChild(scenario);
    tr.appendChild(cell('c-trigger'));
    tr.appendChild(cell('c-answer'));
    tr.appendChild(cell('c-time'));
    tr.appendChild(cell('num'));
    tr.appendChild(cell('c-outcome'));
    tr.appendChild(cell('c-error'));
    return tr;
  }
  // Writes only what differs, so untouched text keeps its selection and a focused link stays where it is.
  function fill(tr, r) {
    var c = tr.cells;
    var badge = c[0].firstChild;
    setAttr(badge, 'href', r.href);
    setAttr(badge, 'class', 'badge st-' + r.status);
    setText(badge, r.status);
    fillMayRepeat(c[0], r.mayRepeat === true);
    setAttr(c[1].firstChild, 'href', r.href);
    setData(c[1].firstChild, r.scenario);
    fillJob(c[1], r);
    setText(c[2], r.trigger);
    fillAnswer(c[3], r.answer);
    setText(c[4], r.started);
    setText(c[5], r.duration);
    setParts(c[6], r.outcomeParts || (r.outcome ? [[r.outcome]] : []));
    setData(c[7], r.error || '');
  }
  // The line under the scenario of a job's run, "job …1t3v6w #3", as runs.njk draws it; none for a run without a job.
  function fillJob(td, r) {
    var ref = td.querySelector('.job-ref');
    if (!r.jobId) {
      if (ref) td.removeChild(ref);
      return;
    }
    if (!ref) {
      ref = document.createElement('div');
      ref.className = 'job-ref';
      ref.appendChild(document.createTextNode('job '));
      var a = link('');
      a.appendChild(document.createElement('code'));
      ref.appendChild(a);
      ref.appendChild(document.createTextNode(''));
      td.appendChild(ref);
    }
    var to = ref.querySelector('a');
    var name = 'all runs of job ' + r.jobId;
    setAttr(to, 'href', base + '/runs?job=' + encodeURIComponent(r.jobId));
    setAttr(to, 'title', name);
    setAttr(to, 'aria-label', name);
    setText(to.firstChild, r.jobShort || r.jobId);
    if (ref.lastChild.nodeValue !== ' #' + r.attempt) ref.lastChild.nodeValue = ' #' + r.attempt;
  }
  // The "may repeat" mark after the status badge, as the page's mayRepeatMark macro draws it (a word, not a colour).
  function fillMayRepeat(td, on) {
    var mark = td.querySelector('.may-repeat');
    if (!on) {
      if (mark) {
        if (mark.previousSibling && mark.previousSibling.nodeType === 3) td.removeChild(mark.previousSibling);
        td.removeChild(mark);
      }
      return;
    }
    if (mark) return;
    mark = document.createElement('span');
    mark.className = 'badge st-queued may-repeat';
    mark.title = 'An earlier attempt of this job was cut off before it journaled its last effect: an effect of this run may have been made twice (its page says which)';
    mark.textContent = 'may repeat';
    td.appendChild(document.createTextNode(' '));
    td.appendChild(mark);
  }
  // The badge of the HTTP status a hook run answered with, as the page's answerBadge macro draws it; none for others.
  function fillAnswer(td, status) {
    var badge = td.firstChild;
    if (typeof status !== 'number') {
      if (badge) td.removeChild(badge);
      return;
    }
    if (!badge) {
      badge = document.createElement('span');
      var sr = document.createElement('span');
      sr.className = 'sr-only';
      sr.textContent = 'HTTP ';
      badge.appendChild(sr);
      badge.appendChild(document.createTextNode(''));
      td.appendChild(badge);
    }
    setAttr(badge, 'class', 'badge http-' + Math.floor(status / 100) + 'xx');
    setAttr(badge, 'title', 'Answered HTTP ' + status);
    if (badge.lastChild.nodeValue !== String(status)) badge.lastChild.nodeValue = String(status);
  }
  function render(items) {
    var existing = {};
    for (var i = 0; i < body.rows.length; i++) existing[body.rows[i].getAttribute('data-id')] = body.rows[i];
    var wanted = {};
    var added = 0;
    items.forEach(function (r, index) {
      var key = keyOf(r);
      wanted[key] = true;
      var tr = existing[key];
      if (!tr) {
        tr = newRow();
        tr.setAttribute('data-id', key);
        tr.className = 'fresh';
        added++;
      } else if (tr.getAttribute('data-status') !== r.status) {
        tr.className = 'fresh';
      }
      setAttr(tr, 'data-status', r.status);
      fill(tr, r);
      // Moves a row only when it is out of place (a move would drop the focus inside it).
      if (body.rows[index] !== tr) body.insertBefore(tr, body.rows[index] || null);
    });
    for (var key in existing) if (!wanted[key] && existing[key].parentNode === body) body.removeChild(existing[key]);
    if (empty) empty.hidden = items.length > 0;
    if (news && added) news.textContent = added === 1 ? '1 new run' : added + ' new runs';
  }
  function renderCounts(counts) {
    if (!counts) return;
    // Each count is the <b> inside an element named by data-count.
    var els = document.querySelectorAll('[data-count]');
    for (var i = 0; i < els.length; i++) {
      var n = counts[els[i].getAttribute('data-count')];
      var b = els[i].querySelector('b');
      if (typeof n === 'number' && b) setText(b, String(n));
    }
    var dead = document.querySelector('[data-count="dead"]');
    if (dead) dead.classList.toggle('bad', counts.dead > 0);
  }
  function online(ok) {
    if (!live) return;
    live.classList.toggle('offline', !ok);
    setText(live, ok ? 'live' : 'offline' + (lastAt ? ' — last update ' + lastAt : ''));
    setAttr(live, 'title', ok ? 'The list and the counts update every 2 seconds' : 'The server did not answer the last update (stopped, unreachable, or the login is no longer accepted); retrying every 2 seconds');
  }
  function poll() {
    if (document.hidden) return later();
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (text) {
        var j = JSON.parse(text);
        if (!j || !j.items) throw new Error('not a runs list');
        lastAt = typeof j.at === 'string' ? j.at.slice(11) : null;
        online(true);
        // Nothing changed since the last answer (apart from its time): leave the page alone.
        var same = text.replace(/"at":"[^"]*"/, '');
        if (same === lastText) return;
        lastText = same;
        render(j.items);
        renderCounts(j.counts);
      })
      .catch(function () { online(false); })
      .then(later);
  }
  function later() { setTimeout(poll, 2000); }
  later();
})();

// The dry-run form: only the input the chosen mode uses can be edited, and choosing a scenario other than the hook
// scenario switches to input parameters (a webhook request would give it the path as parameter 1, not the body).
(function () {
  'use strict';
  var form = document.querySelector('form.dry-form');
  if (!form) return;
  var hook = form.getAttribute('data-hook-scenario');
  var select = form.querySelector('#scenario');
  var sets = { webhook: form.querySelector('fieldset.webhook'), params: form.querySelector('fieldset.params') };
  function mode() {
    var checked = form.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : 'params';
  }
  function apply() {
    var m = mode();
    for (var k in sets) {
      if (!sets[k]) continue;
      sets[k].disabled = k !== m;
      sets[k].removeAttribute('data-inactive');
    }
  }
  function choose(m) {
    var radio = form.querySelector('input[name="mode"][value="' + m + '"]');
    if (radio) radio.checked = true;
    apply();
  }
  var radios = form.querySelectorAll('input[name="mode"]');
  for (var i = 0; i < radios.length; i++) radios[i].addEventListener('change', apply);
  if (select) select.addEventListener('change', function () { choose(select.value === hook ? 'webhook' : 'params'); });
  apply();
})();

// A diagram wider than its panel (a phone) opens scrolled to the run's first block, not to the diagram's left edge,
// where the path may not be at all.
(function () {
  'use strict';
  var wraps = document.querySelectorAll('.diagram-wrap');
  for (var i = 0; i < wraps.length; i++) {
    var wrap = wraps[i];
    if (wrap.scrollWidth <= wrap.clientWidth) continue;
    var first = wrap.querySelector('.node.st-visited, .node.st-failed');
    if (!first) continue;
    var box = first.getBoundingClientRect();
    var panel = wrap.getBoundingClientRect();
    wrap.scrollLeft += box.left + box.width / 2 - (panel.left + panel.width / 2);
  }
})();
