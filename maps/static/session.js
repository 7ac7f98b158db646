/* gridhouse pages: a session that ends while a page is open (idle, revoked, or the page left
   alone for the idle limit). The page stays as it is (an open building, a typed registration),
   hidden: a login dialog over it asks for the same user's
   password (and one-time code when the account has one), with the login page's rules and
   messages, and the requests refused meanwhile (API calls, map tiles) are sent again. */
(function (G) {
  'use strict';

  var renewal = null;  // the promise every refused request waits on while the dialog is open

  function $(id) { return document.getElementById(id); }

  function input(name, type, key, attributes) {
    return '<label class="form-label w-100">' + G.tHtml(key) +
      '<input class="form-control" id="gh-session-' + name + '" name="' + name + '" type="' + type + '"' + attributes + '></label>';
  }

  function dialogMarkup() {
    var user = G.config.user || {};
    return '<form class="gh-session-box" id="gh-session-form" autocomplete="on">' +
      G.tHtml('session_ended', 'h2', ' class="h5" id="gh-session-title"') +
      G.tHtml('session_kept', 'p', ' class="small text-muted"') +
      input('name', 'text', 'user_name', ' readonly autocomplete="username" value="' + G.escape(user.name || '') + '"') +
      input('password', 'password', 'password', ' required maxlength="1024" autocomplete="current-password"') +
      (user.totp ? input('totp', 'text', 'totp', ' required inputmode="numeric" maxlength="10" autocomplete="one-time-code"') : '') +
      '<div class="text-danger small mb-2" id="gh-session-error" role="alert"></div>' +
      G.tHtml('login_button', 'button', ' class="btn btn-primary w-100" type="submit" id="gh-session-submit"') +
      '<a class="d-block small mt-2" id="gh-session-other" href="/login?next=' +
      encodeURIComponent(window.location.pathname + window.location.search) + '">' + G.tHtml('login_other') + '</a></form>';
  }

  /** Resolve once the new session cookie is in use (the cookie store is written asynchronously:
      a request right after the login answer may go out without it; login.js waits the same way). */
  function inUse(tries) {
    return fetch('/api/auth/me', { credentials: 'same-origin' }).then(function (response) {
      if (response.ok || tries <= 0) { return null; }
      return new Promise(function (resolve) { setTimeout(resolve, 100); }).then(function () { return inUse(tries - 1); });
    });
  }

  function open(resolve) {
    var box = document.createElement('div');
    box.className = 'gh-session';
    box.id = 'gh-session';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-labelledby', 'gh-session-title');
    box.innerHTML = dialogMarkup();
    document.body.appendChild(box);
    document.body.setAttribute('data-session', 'ended');
    $('gh-session-password').focus();
    $('gh-session-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var body = { name: (G.config.user || {}).name || '', password: $('gh-session-password').value };
      var totp = $('gh-session-totp') && $('gh-session-totp').value.trim();
      if (totp) { body.totp = totp; }
      var button = $('gh-session-submit');
      button.disabled = true;
      G.api('POST', '/api/auth/login', body).then(function (res) {
        if (!res.ok) {
          button.disabled = false;
          // the login page's words: a 401 says only that name, password or code were wrong
          G.showError($('gh-session-error'), res.status === 401 ? function () { return G.t('login_failed'); } : res.data, res.status, G.loginLabels);
          return null;
        }
        return inUse(10).then(function () {
          box.remove();
          document.body.removeAttribute('data-session');
          G.toast(G.t('session_renewed'), 'ok');
          resolve();
        });
      }).catch(function () {
        button.disabled = false;
        G.showError($('gh-session-error'), function () { return G.t('load_failed'); });
      });
    });
  }

  /** A page left alone (no key, click, touch or wheel) as long as the server lets a session
      idle logs out and hides behind the dialog, keeping what it holds for the same user: an
      unattended screen showed what it had open (a revealed ID number) for as long as nobody
      touched it, since only a request finds the session ended. */
  function watchIdle() {
    var limit = (G.config.idle_minutes || 0) * 60000;
    if (!limit || !(G.config.user || {}).name) { return; }
    var last = Date.now();
    ['pointerdown', 'keydown', 'wheel', 'touchstart'].forEach(function (kind) {
      document.addEventListener(kind, function () { last = Date.now(); }, { capture: true, passive: true });
    });
    setInterval(function () {
      if (renewal || Date.now() - last < limit) { return; }
      G.api('POST', '/api/auth/logout')  // as the log-out button does (its 401 is its answer)
        .catch(function () { return null; })
        .then(function () { G.session.ended(); });
    }, 15000);
  }

  G.session = {
    /** How many times the user has logged in again on this page (a request sent before the
     *  last time and refused is sent again without asking). */
    generation: 0,

    /** A request was refused for want of a session (401): resolves once the user has logged
     *  in again in the dialog (opened once, however many requests wait on it). */
    ended: function () {
      if (!renewal) {
        renewal = new Promise(open).then(function () {
          renewal = null;
          G.session.generation += 1;
        });
      }
      return renewal;
    }
  };

  G.session.watchIdle = watchIdle;  // started by G.initCommon, once the page's config is known
})(window.Gridhouse = window.Gridhouse || {});
