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
// element again from its data-live-src and says so in a polite notice. A row being edited (a
// field in it focused or changed) is left as it is (the notice says so): its save checks the
// version anyway. A marked element without data-live-src (a page too rich to refresh in part)
// gets a notice with a reload link instead; data-live-version skips changes it already shows.
(function () {
  'use strict';
  var notice;
  var timer;
  function say(text, reload) {
    if (!notice) {
      notice = document.createElement('div');
      notice.className = 'live-notice';
      notice.setAttribute('role', 'status');
      notice.setAttribute('aria-live', 'polite');
      document.body.appendChild(notice);
    }
    notice.textContent = text;
    window.clearTimeout(timer);
    if (reload) {
      // Stays until the reader acts on it: the page shows an older version until then.
      var link = document.createElement('a');
      link.href = window.location.href;
      link.textContent = 'Reload to see it';
      notice.appendChild(document.createTextNode(' '));
      notice.appendChild(link);
      return;
    }
    timer = window.setTimeout(function () {
      notice.textContent = '';
    }, 8000);
  }
  // Only what the reader types or picks counts as editing: a focused button (the Apply just
  // pressed) or an open form left as it came does not.
  var NOT_TYPED = ['hidden', 'submit', 'button', 'reset', 'image'];
  function typeOf(n) {
    return (n.getAttribute('type') || 'text').toLowerCase();
  }
  function changed(n) {
    if (n.tagName === 'SELECT') {
      for (var i = 0; i < n.options.length; i++)
        if (n.options[i].selected !== n.options[i].defaultSelected) return true;
      return false;
    }
    var t = typeOf(n);
    if (t === 'checkbox' || t === 'radio') return n.checked !== n.defaultChecked;
    return n.value !== n.defaultValue;
  }
  function editing(el) {
    var fields = el.querySelectorAll('input, textarea, select');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.tagName === 'INPUT' && NOT_TYPED.indexOf(typeOf(f)) >= 0) continue;
      if (f === document.activeElement || changed(f)) return true;
    }
    return false;
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
  // The viewer's own change (data-user-id on <body> against the event's byId): the row it was
  // made from shows the answer already, so it is left alone and never called "being edited".
  function refresh(key, c, text) {
    var own = c.byId !== undefined && c.byId === document.body.getAttribute('data-user-id');
    var els = marked(key).filter(function (el) {
      var shown = Number(el.getAttribute('data-live-version'));
      return !(shown && c.version <= shown);
    });
    if (!els.length) return;
    var kept = false;
    var stale = false;
    els.forEach(function (el) {
      var src = el.getAttribute('data-live-src');
      if (!src) return void (stale = true);
      if (editing(el)) return void (kept = true);
      if ((own && el.classList.contains('editing')) || !window.htmx) return;
      window.htmx.ajax('GET', src, { target: el, swap: 'outerHTML' }).then(function () {
        flash(key);
      });
    });
    if (kept && !own) say(text + ' (you are editing it: reload to see the new value)');
    else say(text, stale);
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
      refresh(c.key, c, c.key + where + ' changed to v' + c.version + ' by ' + c.by);
      refreshAny();
    });
    source.addEventListener('flag', function (e) {
      var f = JSON.parse(e.data);
      refresh('flag:' + f.name, f, 'Flag ' + f.name + ' changed to v' + f.version + ' by ' + f.by);
      refreshAny();
    });
  });
})();

// Import (/panel/import): a chosen file's text goes into the form's text field, and its name
// into a hidden field, so the form posts as a plain form (the server reads and checks the text).
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var input = e.target;
    if (!input || !input.matches || !input.matches('input[type=file][data-tr-file]')) return;
    var form = input.closest('form');
    var file = input.files && input.files[0];
    if (!form || !file) return;
    var text = form.querySelector('textarea[name=file]');
    var name = form.querySelector('[data-tr-filename]');
    if (name) name.value = file.name;
    file.text().then(function (t) {
      if (text) text.value = t;
    });
  });
})();
