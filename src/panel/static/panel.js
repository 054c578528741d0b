// The panel's own script (served from this server; the CSP allows no inline script).
// Times: each <time datetime> is shown in the viewer's time zone; its title keeps UTC.
(function () {
  'use strict';
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function localTimes(root) {
    var nodes = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < nodes.length; i++) {
      var d = new Date(nodes[i].getAttribute('datetime'));
      if (!isNaN(d.getTime())) nodes[i].textContent = format.format(d);
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    localTimes(document);
  });
  // Content htmx swapped in gets the same treatment.
  document.addEventListener('htmx:afterSettle', function (e) {
    localTimes(e.target);
  });
  // A refusal (4xx) comes back as an HTML fragment with role="alert": show it rather than drop
  // it, where the requesting element's data-error-target says (`#id` or `closest <selector>`),
  // else in the request's own target.
  document.addEventListener('htmx:beforeSwap', function (e) {
    var xhr = e.detail.xhr;
    var type = xhr.getResponseHeader('content-type') || '';
    if (xhr.status < 400 || xhr.status >= 500 || type.indexOf('text/html') !== 0) return;
    e.detail.shouldSwap = true;
    e.detail.isError = false;
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var holder = elt && elt.closest && elt.closest('[data-error-target]');
    if (!holder) return;
    var sel = holder.getAttribute('data-error-target');
    var target = sel.indexOf('closest ') === 0 ? elt.closest(sel.slice(8)) : document.querySelector(sel);
    if (target) {
      e.detail.target = target;
      e.detail.swapOverride = 'innerHTML';
    }
  });
})();

// Live updates: on a page with elements marked data-live-key (a key, or `flag:<name>`), a change
// committed anywhere (Discord, the API, another panel, another process) fetches each marked
// element again from its data-live-src and says so in a polite notice. A row being edited is left
// as it is (the notice says so): its save checks the version anyway.
(function () {
  'use strict';
  var notice;
  var timer;
  function say(text) {
    if (!notice) {
      notice = document.createElement('div');
      notice.className = 'live-notice';
      notice.setAttribute('role', 'status');
      notice.setAttribute('aria-live', 'polite');
      document.body.appendChild(notice);
    }
    notice.textContent = text;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      notice.textContent = '';
    }, 8000);
  }
  function marked(key) {
    var all = document.querySelectorAll('[data-live-key]');
    var out = [];
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-live-key') === key) out.push(all[i]);
    return out;
  }
  function flash(key) {
    marked(key).forEach(function (el) {
      el.classList.add('live-changed');
      window.setTimeout(function () {
        el.classList.remove('live-changed');
      }, 3000);
    });
  }
  function refresh(key, text) {
    var els = marked(key);
    if (!els.length) return;
    var kept = false;
    els.forEach(function (el) {
      var src = el.getAttribute('data-live-src');
      var editing = el.classList.contains('editing') || el.contains(document.activeElement);
      if (editing) kept = true;
      if (!src || editing || !window.htmx) return;
      window.htmx.ajax('GET', src, { target: el, swap: 'outerHTML' }).then(function () {
        flash(key);
      });
    });
    say(kept ? text + ' (you are editing it: reload to see the new value)' : text);
  }
  // Elements marked data-live-any (the dashboards) follow every change, at most once a second,
  // unless the reader is inside them (a table unfolded, focus): that would be taken from them.
  var anyTimer;
  function refreshAny() {
    if (anyTimer) return;
    anyTimer = window.setTimeout(function () {
      anyTimer = undefined;
      var els = document.querySelectorAll('[data-live-any][data-live-src]');
      for (var i = 0; i < els.length; i++) {
        var el = els[i];
        if (el.querySelector('details[open]') || el.contains(document.activeElement) || !window.htmx)
          continue;
        window.htmx.ajax('GET', el.getAttribute('data-live-src'), { target: el, swap: 'outerHTML' });
      }
    }, 1000);
  }
  document.addEventListener('DOMContentLoaded', function () {
    if (!document.querySelector('[data-live-key], [data-live-any]') || !window.EventSource) return;
    var source = new window.EventSource('/panel/events');
    source.addEventListener('change', function (e) {
      var c = JSON.parse(e.data);
      var where = c.scope === 'global' ? '' : ' (' + c.scope + ')';
      refresh(c.key, c.key + where + ' changed to v' + c.version + ' by ' + c.by);
      refreshAny();
    });
    source.addEventListener('flag', function (e) {
      var f = JSON.parse(e.data);
      refresh('flag:' + f.name, 'Flag ' + f.name + ' changed to v' + f.version + ' by ' + f.by);
      refreshAny();
    });
  });
})();
