// Findings table of the kscan HTML report: filters, search, sort and paging over the embedded
// JSON. Every value is placed with textContent, never parsed as HTML.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('kscan-data').textContent);
  var PAGE_SIZE = 100;
  var SEVERITIES = data.severities;
  // Row layout (see src/report/html.ts): severity index, check, kind, namespace, name, message, where, path, fingerprint, new.
  var rows = data.rows.map(function (r, i) {
    return {
      index: i, severity: r[0], check: r[1], kind: r[2], namespace: r[3], name: r[4], message: r[5], where: r[6], path: r[7], fingerprint: r[8], isNew: r[9] === 1,
      object: r[2] + '/' + (r[3] ? r[3] + '/' : '') + r[4],
      haystack: (r[1] + ' ' + (data.checks[r[1]] ? data.checks[r[1]].title : '') + ' ' + r[2] + '/' + r[3] + '/' + r[4] + ' ' + r[5] + ' ' + r[6]).toLowerCase()
    };
  });
  var state = { text: '', severity: '', namespace: '', check: '', framework: '', onlyNew: false, sort: 'severity', dir: 1, page: 0, pageSize: PAGE_SIZE };
  var matching = rows;
  var el = function (id) { return document.getElementById(id); };
  var tbody = document.querySelector('#findings-table tbody');

  function option(select, value, label) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }
  function uniqueSorted(values) {
    return Array.from(new Set(values)).sort(function (a, b) { return a.localeCompare(b, 'en', { numeric: true }); });
  }
  SEVERITIES.forEach(function (s, i) { option(el('filter-severity'), String(i), s); });
  uniqueSorted(rows.map(function (r) { return r.namespace || '(cluster)'; })).forEach(function (ns) { option(el('filter-namespace'), ns, ns); });
  uniqueSorted(Object.keys(data.checks)).forEach(function (id) { option(el('filter-check'), id, id + ' ' + data.checks[id].title); });
  var frameworks = [];
  Object.keys(data.checks).forEach(function (id) { frameworks = frameworks.concat(data.checks[id].frameworks); });
  uniqueSorted(frameworks).forEach(function (f) { option(el('filter-framework'), f, f); });
  if (data.hasHistory) document.querySelector('.only-new').hidden = false;

  var compare = {
    severity: function (a, b) { return a.severity - b.severity || a.index - b.index; },
    check: function (a, b) { return a.check.localeCompare(b.check, 'en', { numeric: true }) || a.index - b.index; },
    object: function (a, b) { return a.object.localeCompare(b.object) || a.index - b.index; },
    message: function (a, b) { return a.message.localeCompare(b.message) || a.index - b.index; },
    where: function (a, b) { return a.where.localeCompare(b.where, 'en', { numeric: true }) || a.index - b.index; }
  };

  function applyFilters() {
    var text = state.text.trim().toLowerCase();
    matching = rows.filter(function (r) {
      if (state.severity !== '' && String(r.severity) !== state.severity) return false;
      if (state.namespace && (r.namespace || '(cluster)') !== state.namespace) return false;
      if (state.check && r.check !== state.check) return false;
      if (state.framework && (!data.checks[r.check] || data.checks[r.check].frameworks.indexOf(state.framework) < 0)) return false;
      if (state.onlyNew && !r.isNew) return false;
      return !text || r.haystack.indexOf(text) >= 0;
    });
    var cmp = compare[state.sort];
    matching.sort(function (a, b) { return state.dir * cmp(a, b); });
    state.page = 0;
    render();
  }

  function cell(tr, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function detailRow(r) {
    var tr = document.createElement('tr');
    tr.className = 'detail';
    var td = document.createElement('td');
    td.colSpan = 5;
    var dl = document.createElement('dl');
    var check = data.checks[r.check] || { title: '', remediation: '', controls: [] };
    [['Check', r.check + ' ' + check.title], ['Finding', r.message], ['Object', r.object], ['Field', r.path], ['Where', r.where],
      ['Remediation', check.remediation], ['Controls', check.controls.join(', ') || '—'], ['Fingerprint', r.fingerprint]].forEach(function (pair) {
      var dt = document.createElement('dt');
      dt.textContent = pair[0];
      var dd = document.createElement('dd');
      dd.textContent = pair[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(matching.length / state.pageSize));
    if (state.page >= pages) state.page = pages - 1;
    var start = state.page * state.pageSize;
    var slice = matching.slice(start, start + state.pageSize);
    var fragment = document.createDocumentFragment();
    slice.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.className = 'finding';
      tr.dataset.fingerprint = r.fingerprint;
      var sev = cell(tr, '');
      var pill = document.createElement('span');
      pill.className = 'pill sev-' + SEVERITIES[r.severity];
      pill.textContent = SEVERITIES[r.severity];
      sev.appendChild(pill);
      var checkCell = cell(tr, r.check + ' ' + (data.checks[r.check] ? data.checks[r.check].title : ''));
      if (r.isNew) {
        var badge = document.createElement('span');
        badge.className = 'badge-new';
        badge.textContent = 'new';
        checkCell.appendChild(badge);
      }
      cell(tr, r.object, 'object');
      cell(tr, r.message);
      cell(tr, r.where, 'where');
      tr.addEventListener('click', function () {
        var next = tr.nextSibling;
        if (next && next.className === 'detail') next.remove();
        else tr.parentNode.insertBefore(detailRow(r), tr.nextSibling);
      });
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    el('findings-count').textContent = matching.length === rows.length
      ? rows.length + ' findings'
      : matching.length + ' of ' + rows.length + ' findings match';
    el('page-info').textContent = matching.length ? 'rows ' + (start + 1) + '–' + (start + slice.length) + ' · page ' + (state.page + 1) + ' of ' + pages : 'no rows';
    el('page-prev').disabled = state.page === 0;
    el('page-next').disabled = state.page >= pages - 1;
    document.querySelectorAll('#findings-table th[data-sort]').forEach(function (th) {
      // Severity sorts worst first (index 0 is critical); other columns A to Z.
      var ascending = state.sort === 'severity' ? state.dir === -1 : state.dir === 1;
      if (th.dataset.sort === state.sort) th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
  }

  var debounce;
  el('filter-text').addEventListener('input', function (e) {
    clearTimeout(debounce);
    debounce = setTimeout(function () { state.text = e.target.value; applyFilters(); }, 120);
  });
  [['filter-severity', 'severity'], ['filter-namespace', 'namespace'], ['filter-check', 'check'], ['filter-framework', 'framework']].forEach(function (pair) {
    el(pair[0]).addEventListener('change', function (e) { state[pair[1]] = e.target.value; applyFilters(); });
  });
  el('filter-new').addEventListener('change', function (e) { state.onlyNew = e.target.checked; applyFilters(); });
  el('filter-reset').addEventListener('click', function () {
    el('filters').reset();
    state.text = state.severity = state.namespace = state.check = state.framework = '';
    state.onlyNew = false;
    applyFilters();
  });
  document.querySelectorAll('#findings-table th[data-sort]').forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.dataset.sort;
      state.dir = state.sort === key ? -state.dir : 1;
      state.sort = key;
      applyFilters();
    });
  });
  el('page-prev').addEventListener('click', function () { state.page--; render(); });
  el('page-next').addEventListener('click', function () { state.page++; render(); });
  // Printing shows every matching row, not just the current page.
  window.addEventListener('beforeprint', function () { state.pageSize = Math.max(matching.length, 1); state.page = 0; render(); });
  window.addEventListener('afterprint', function () { state.pageSize = PAGE_SIZE; render(); });
  applyFilters();
})();
