/* gridhouse /login: post the form to /api/auth/login (which sets the session cookie), then go on. */
(function (G) {
  'use strict';

  /** Go to `target` once the new session cookie is in use (the cookie store is written
      asynchronously: a navigation right after the login answer may go out without it). */
  function goOn(target, tries) {
    fetch('/api/auth/me', { credentials: 'same-origin' }).then(function (response) {
      if (response.ok || tries <= 0) {
        window.location.assign(target);
      } else {
        setTimeout(function () { goOn(target, tries - 1); }, 100);
      }
    });
  }

  G.login = {
    start: function (_map, config) {
      G.initCommon(config);
      var bar = document.querySelector('.gh-bar');
      if (bar) { bar.querySelectorAll('.gh-logout, .gh-user').forEach(function (el) { el.remove(); }); }
      var form = document.getElementById('gh-login');
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var body = {
          name: document.getElementById('gh-name').value.trim(),
          password: document.getElementById('gh-password').value
        };
        var totp = document.getElementById('gh-totp').value.trim();
        if (totp) { body.totp = totp; }
        var button = document.getElementById('gh-login-submit');
        button.disabled = true;
        G.api('POST', '/api/auth/login', body).then(function (res) {
          button.disabled = false;
          if (res.ok) {
            goOn(config.next || '/', 10);
            return;
          }
          // worded again when the language changes (G.showError)
          G.showError(document.getElementById('gh-login-error'),
            res.status === 401 ? function () { return G.t('login_failed'); } : res.data, res.status, G.loginLabels);
        }).catch(function () { button.disabled = false; });
      });
      document.body.setAttribute('data-ready', 'login');
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
