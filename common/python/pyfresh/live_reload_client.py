"""The script live reload puts into HTML pages (served as
/_pyfresh/live-reload.js, or inline with the app's CSP nonce).

It polls the change token every POLL_MS milliseconds with a short request
(never a long poll: with one worker thread the app must still answer) and
reloads the page when a token is greater than the greatest it has acted on.
That one is kept in sessionStorage, so a page reloaded by a process that
has not reloaded yet (several workers) never reloads again for the same
change. Tokens are decimal integers of any length, compared as such."""

POLL_MS = 250

SCRIPT = r"""(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__pyfreshLiveReload) return;
  window.__pyfreshLiveReload = true;
  var url = me.getAttribute("data-pyfresh-url");
  var key = "pyfresh-live-reload " + url;
  function greater(a, b) {  // decimal integers, possibly beyond 2**53
    a = String(a).replace(/^0+(?=\d)/, ""); b = String(b).replace(/^0+(?=\d)/, "");
    return a.length !== b.length ? a.length > b.length : a > b;
  }
  function seen() {
    var stored = null;
    try { stored = sessionStorage.getItem(key); } catch (e) {}
    return stored && /^\d+$/.test(stored) ? stored : "0";
  }
  function remember(token) {
    try { sessionStorage.setItem(key, token); } catch (e) {}
  }
  var served = me.getAttribute("data-pyfresh-token") || "0";
  if (greater(served, seen())) remember(served);
  // Checks in a row that reached no server: from two on, the server was
  // down (a restart) and the page reloads once it answers again. One alone
  // may be a dropped connection.
  var failures = 0, busy = false;
  function check() {
    if (busy) return;
    busy = true;
    fetch(url, {cache: "no-store", credentials: "same-origin"}).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (text) {
      busy = false;
      var token = text.trim(), restarted = failures >= 2;
      failures = 0;
      if (!/^\d+$/.test(token)) return;
      var changed = greater(token, seen());
      if (changed) remember(token);
      if (changed || restarted) location.reload();
    }, function () { busy = false; failures += 1; });
  }
  setInterval(check, %(poll_ms)d);
})();
""" % {"poll_ms": POLL_MS}
