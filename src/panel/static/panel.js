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
})();
