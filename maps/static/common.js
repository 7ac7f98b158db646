/* gridhouse pages: what every page shares (language, API calls, messages, log-out). */
(function (G) {
  'use strict';

  G.config = null;
  G.lang = 'zh';

  /** The message `key` in the current language (the key itself when unknown). */
  G.t = function (key) {
    var table = (G.config && G.config.messages[G.lang]) || {};
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
  };

  /** Text safe to put into HTML. */
  G.escape = function (value) {
    return String(value === null || value === undefined ? '' : value)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  };

  /** The message `key` as markup that follows the language: `<span data-i18n="key">…</span>`
   *  (`tag` for another element). */
  G.tHtml = function (key, tag, attributes) {
    var name = tag || 'span';
    return '<' + name + (attributes || '') + ' data-i18n="' + G.escape(key) + '">' + G.escape(G.t(key)) +
      '</' + name + '>';
  };

  /** Show a refusal in `element`, worded again when the language changes: `body` and `status`
   *  of an API answer (as G.errorText words them, with the form's own `labels`), or a function
   *  giving the text; null empties the element. */
  G.showError = function (element, body, status, labels) {
    if (!element) { return; }
    if (body === null || body === undefined) {
      element.textContent = '';
      element.removeAttribute('data-gh-error');
      element.ghError = null;
      return;
    }
    element.ghError = typeof body === 'function' ? body : function () { return G.errorText(body, status, labels); };
    element.setAttribute('data-gh-error', '');
    element.textContent = element.ghError();
  };

  /** Translate every marked element of `root` (the document by default). */
  G.translate = function (root) {
    var scope = root || document;
    scope.querySelectorAll('[data-i18n]').forEach(function (el) {
      el.textContent = G.t(el.getAttribute('data-i18n'));
    });
    scope.querySelectorAll('[data-i18n-placeholder]').forEach(function (el) {
      el.setAttribute('placeholder', G.t(el.getAttribute('data-i18n-placeholder')));
    });
    scope.querySelectorAll('[data-i18n-title]').forEach(function (el) {
      el.setAttribute('title', G.t(el.getAttribute('data-i18n-title')));
    });
    scope.querySelectorAll('[data-i18n-alt]').forEach(function (el) {
      el.setAttribute('alt', G.t(el.getAttribute('data-i18n-alt')));
    });
    scope.querySelectorAll('[data-gh-error]').forEach(function (el) {
      if (el.ghError) { el.textContent = el.ghError(); }
    });
  };

  /** Switch the page to `lang` ('zh' or 'en'), remember it, and tell the page's scripts. */
  G.setLang = function (lang) {
    G.lang = lang === 'en' ? 'en' : 'zh';
    document.documentElement.lang = G.lang === 'zh' ? 'zh-CN' : 'en';
    document.cookie = 'gridhouse_lang=' + G.lang + '; path=/; max-age=31536000; samesite=strict';
    G.translate();
    var title = G.config && G.config.title;
    if (title && Object.prototype.hasOwnProperty.call(G.config.messages[G.lang], title)) {
      document.title = G.t(title);
    }
    translateLayerNames();
    document.dispatchEvent(new CustomEvent('gh:lang', { detail: G.lang }));
  };

  /** The names in Leaflet's layer switcher (folium wrote them in the page's first language). */
  function translateLayerNames() {
    var keys = {};
    Object.keys(G.config.messages).forEach(function (lang) {
      var table = G.config.messages[lang];
      Object.keys(table).forEach(function (key) {
        if (key.indexOf('layer_') === 0 || key === 'building') { keys[table[key]] = key; }
      });
    });
    document.querySelectorAll('.leaflet-control-layers label span > span').forEach(function (span) {
      var key = keys[span.textContent.trim()];
      if (key) { span.textContent = ' ' + G.t(key); }
    });
  }

  var PERIOD = /^\[(\S+), (\S+)\)$/;
  var OWN_RESIDENCE = /^the person's primary residence (\[[^)]*\))$/;

  /** A matched part of a message in Chinese (maps/error_text.py's _phrase, the same rules). */
  function phrase(text) {
    var phrases = G.config.phrases_zh;
    if (Object.prototype.hasOwnProperty.call(phrases, text)) { return phrases[text]; }
    var own = OWN_RESIDENCE.exec(text);
    if (own) { return '此人的主要居住登记' + phrase(own[1]); }
    var period = PERIOD.exec(text);
    if (period) {
      return '（' + period[1] + '起' + (period[2] === 'open' ? '至今' : '至' + period[2] + '前') + '）';
    }
    var translated = G.translateError(text);
    if (translated !== null) { return translated; }
    var lists = [[', ', '、'], [' or ', '或']];  // "accepted, rejected"
    for (var i = 0; i < lists.length; i++) {
      if (text.indexOf(lists[i][0]) >= 0) { return text.split(lists[i][0]).map(phrase).join(lists[i][1]); }
    }
    return text;
  }

  /** The Chinese of a server message, or null (maps/error_text.py's translate, the same table). */
  G.translateError = function (message) {
    var entries = (G.config && G.config.errors_zh) || [];
    for (var i = 0; i < entries.length; i++) {
      var match = new RegExp('^(?:' + entries[i][0] + ')$', 's').exec(message);
      if (!match) { continue; }
      return entries[i][1].replace(/\{(\d)(:p)?\}/g, function (all, n, p) {
        var group = match[Number(n)] || '';
        return p ? phrase(group) : group;
      });
    }
    return null;
  };

  /** The first message of an error body ({"detail": [{"msg": ...}]} or {"detail": "..."}), in
   *  the page's language: the field's label (never the API's name or path, `person.id_number`)
   *  and, in Chinese, the message when known (the server answers in English). `labels`: a
   *  form's own message keys for field names that mean something else there (the login's
   *  `name` is the user name, not a person's name). */
  G.errorText = function (body, status, labels) {
    var message = null;
    var field = '';
    if (body && Array.isArray(body.detail) && body.detail.length) {
      var first = body.detail[0];
      message = String(first.msg);
      // the last name in the location (["body", "items", 0]: the list, not its index 0)
      var names = (first.loc || []).filter(function (part) { return typeof part === 'string'; });
      field = names.length ? names[names.length - 1] : '';
    } else if (body && typeof body.detail === 'string') {
      message = body.detail;
    }
    if (message === null) { return G.t('load_failed') + ' (' + status + ')'; }
    if (G.lang === 'zh') {
      var translated = G.translateError(message);
      if (translated !== null) { message = translated; }
    }
    if (field) {
      var name = field.split('.').pop();
      field = G.t(labels && Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : name);
    }
    return field ? field + (G.lang === 'zh' ? '：' : ': ') + message : message;
  };

  /** The login form's fields by their labels there (`name` alone reads "姓名", a person's name),
   *  for G.errorText: the login page (login.js) and the session dialog (session.js). */
  G.loginLabels = { name: 'user_name', password: 'password', totp: 'totp' };

  /** Calls whose 401 is their answer, not a session ended mid-work. */
  var OWN_401 = ['/api/auth/login', '/api/auth/logout'];

  /**
   * Call the API with the session cookie: resolves to {ok, status, data}. A 401 means the
   * session ended while the page was open: the page stays as it is, the user logs in again in
   * a dialog over it (session.js), and the request is sent again (nothing was done with it).
   */
  G.api = function (method, url, body) {
    var options = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    var sentIn = G.session ? G.session.generation : 0;
    return fetch(url, options).then(function (response) {
      if (response.status === 401 && OWN_401.indexOf(url) < 0 && G.session) {
        // sent before the user logged in again in the dialog: sent again with the new session
        var renewed = G.session.generation !== sentIn ? Promise.resolve() : G.session.ended();
        return renewed.then(function () { return G.api(method, url, body); });
      }
      var type = response.headers.get('content-type') || '';
      var parse = type.indexOf('json') >= 0 ? response.json() : Promise.resolve(null);
      return parse.then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  };

  /** A short message at the bottom of the screen. */
  G.toast = function (message, kind) {
    var box = document.getElementById('gh-toast');
    if (!box) { return; }
    box.textContent = message;
    box.className = 'gh-toast gh-toast-' + (kind || 'info');
    box.hidden = false;
    clearTimeout(G._toastTimer);
    G._toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
  };

  /** Today in China (the server's day), as YYYY-MM-DD. */
  G.today = function () {
    return (G.config && G.config.today) || new Date().toISOString().slice(0, 10);
  };

  /** Set up what every page has: the configuration, the language toggle, log-out. */
  G.initCommon = function (config) {
    G.config = config;
    G.lang = config.lang === 'en' ? 'en' : 'zh';
    if (G.session) { G.session.watchIdle(); }
    var toggle = document.getElementById('gh-lang');
    if (toggle) {
      toggle.addEventListener('click', function () { G.setLang(G.lang === 'zh' ? 'en' : 'zh'); });
    }
    var logout = document.getElementById('gh-logout');
    if (logout) {
      logout.addEventListener('click', function () {
        G.api('POST', '/api/auth/logout').finally(function () { window.location.assign('/login'); });
      });
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
