/* gridhouse /map: click a building → its houses and occupants; register and deregister; add a
   house; report an event, attach photos to it and move it through its steps (events.js);
   search; floating-resident heat map; locate-me. The server decides what a role may do. */
(function (G) {
  'use strict';

  var state = { map: null, data: null, selected: null, building: null, occupants: {}, pageSize: 1000 };
  var KINDS = ['tenant', 'owner', 'family', 'dormitory', 'temporary'];
  var USES = ['residential', 'commercial', 'mixed', 'dorm', 'office', 'other'];

  function $(id) { return document.getElementById(id); }

  /** ISO 7064 MOD 11-2 check character over 24 digits (house and building codes). */
  function checkChar(body) {
    var total = 0;
    for (var i = 0; i < body.length; i += 1) { total = (total + Number(body[i])) * 2 % 11; }
    return '0123456789X'[(12 - total) % 11];
  }

  function buildingCodeOf(code) {
    var body = code.slice(0, 19) + '00000';
    return body + checkChar(body);
  }

  function purposeParam() {
    if (!G.config.needsPurpose) { return ''; }
    var value = ($('gh-purpose') && $('gh-purpose').value.trim()) || '';
    return value ? '&purpose=' + encodeURIComponent(value) : null;
  }

  // ---- selection --------------------------------------------------------------------------

  function select(code) {
    if (state.selected && state.data) { state.data.resetFeatureStyle(state.selected); }
    state.selected = code;
    if (code && state.data) { state.data.setFeatureStyle(code, G.tiles.selected()); }
  }

  /** The panel's title: message keys joined by " · " (each translated with the page). */
  function setTitle(keys) {
    $('gh-panel-title').innerHTML = keys.map(function (key) {
      return '<span data-i18n="' + G.escape(key) + '">' + G.escape(G.t(key)) + '</span>';
    }).join(' · ');
  }

  function openPanel() {
    $('gh-panel').hidden = false;
    document.body.classList.add('gh-panel-open');
    state.map.invalidateSize();
  }

  function closePanel() {
    $('gh-panel').hidden = true;
    document.body.classList.remove('gh-panel-open');
    state.map.invalidateSize();
    select(null);
    state.building = null;
  }

  // ---- the building panel -------------------------------------------------------------------

  function openBuilding(code, focusHouse) {
    select(code);
    state.event = null;
    setTitle(['building']);
    openPanel();
    var body = $('gh-panel-body');
    body.innerHTML = G.tHtml('loading', 'p', ' class="text-muted"');
    G.api('GET', '/api/buildings/' + encodeURIComponent(code)).then(function (res) {
      if (!res.ok) {
        body.innerHTML = '<p class="text-danger"></p>';
        G.showError(body.firstChild, res.data, res.status);
        return;
      }
      state.building = res.data;
      state.focusHouse = focusHouse || null;
      state.occupants = {};
      renderBuilding();
      loadOccupants();
    });
  }

  /** The building's panel, drawn once when it opens: every word in it is marked (data-i18n), so
   *  a change of language translates it in place, and a change to one house redraws that house's
   *  line only: open forms keep what was typed. */
  function renderBuilding() {
    var b = state.building;
    if (!b) { return; }
    var p = b.properties || {};
    var rows = [
      ['code', '<span class="gh-code" id="gh-building-code">' + G.escape(p.code_grouped || b.id) + '</span>'],
      ['use', p.use ? G.tHtml(p.use) : '–'],
      ['floors', G.escape(p.floors === null || p.floors === undefined ? '–' : p.floors)],
      ['houses', '<span id="gh-house-count">' + b.houses.length + '</span>']
    ];
    var html = '<dl class="gh-facts">' + rows.map(function (r) {
      return G.tHtml(r[0], 'dt') + '<dd>' + r[1] + '</dd>';
    }).join('') + '</dl>';
    if (b.houses.length > 8) {
      html += '<input class="form-control form-control-sm mb-2" id="gh-house-filter" data-i18n-placeholder="filter_houses" placeholder="' +
        G.escape(G.t('filter_houses')) + '">';
    }
    if (G.config.canRegister) {
      html += '<div class="mb-2">' +
        G.tHtml('report_event', 'button', ' type="button" class="btn btn-sm btn-outline-danger" id="gh-report-event"') + ' ' +
        G.tHtml('add_house', 'button', ' type="button" class="btn btn-sm btn-outline-secondary" id="gh-add-house"') +
        '<div id="gh-event-form-slot"></div><div id="gh-house-form-slot"></div></div>';
    }
    html += '<div id="gh-occupant-note"></div><ul class="gh-houses list-unstyled" id="gh-houses">' +
      b.houses.map(houseItem).join('') + '</ul>';
    $('gh-panel-body').innerHTML = html;
    var filter = $('gh-house-filter');
    if (filter) {
      filter.addEventListener('input', function () {
        var q = filter.value.trim();
        document.querySelectorAll('#gh-houses > li').forEach(function (li) {
          li.hidden = q !== '' && li.getAttribute('data-room').indexOf(q) < 0 && li.getAttribute('data-code').indexOf(q) < 0;
        });
      });
    }
    if (state.focusHouse) {
      var target = document.querySelector('#gh-houses > li[data-code="' + state.focusHouse + '"]');
      if (target) {
        target.classList.add('gh-focus');
        target.scrollIntoView({ block: 'center' });
      } else {
        G.toast(G.t('not_found') + ' ' + state.focusHouse, 'error');
      }
    }
  }

  /** A house's line: floor and room, use, let, and the officer's buttons. */
  function houseHead(h) {
    var label = (h.floor !== null && h.floor !== undefined ? G.escape(h.floor) + G.tHtml('floor_suffix') + ' · ' : '') +
      G.escape(h.room || ('#' + h.unit));
    var tags = G.tHtml(h.use, 'span', ' class="badge text-bg-light"') +
      (h.is_rented ? ' ' + G.tHtml('rented', 'span', ' class="badge text-bg-warning"') : '');
    var register = G.config.canRegister
      ? G.tHtml('register', 'button', ' type="button" class="btn btn-sm btn-outline-primary gh-register" data-house="' + h.code + '"') +
        G.tHtml(h.is_rented ? 'mark_not_let' : 'mark_let', 'button', ' type="button" class="btn btn-sm btn-link gh-let" data-house="' +
          h.code + '" data-rented="' + (h.is_rented ? 'true' : 'false') + '"')
      : '';
    return '<div class="gh-house-head"><strong>' + label + '</strong> ' + tags + register + '</div>';
  }

  function houseItem(h) {
    return '<li class="gh-house" data-code="' + h.code + '" data-room="' + G.escape(h.room || '') + '">' + houseHead(h) +
      '<div class="gh-house-code">' + G.escape(h.code_grouped) + '</div>' +
      '<ul class="gh-occupants list-unstyled" data-house="' + h.code + '"></ul>' +
      '<div class="gh-form-slot"></div></li>';
  }

  function loadOccupants() {
    var b = state.building;
    var note = $('gh-occupant-note');
    var purpose = purposeParam();
    if (purpose === null) {
      note.innerHTML = G.tHtml('purpose_needed', 'p', ' class="gh-note"');
      return;
    }
    note.innerHTML = G.tHtml('loading', 'p', ' class="text-muted small"');
    var base = '/api/buildings/' + encodeURIComponent(b.id) + '/occupants?limit=' + state.pageSize + purpose;
    var load = state.occupantLoad = {};  // a newer load (another building, a change) wins
    state.occupants = {};
    function page(after) {
      var url = base + (after ? '&after=' + encodeURIComponent(after) : '');
      G.api('GET', url).then(function (res) {
        if (load !== state.occupantLoad) { return; }
        if (!res.ok) {
          note.innerHTML = '<p class="text-danger small"></p>';
          G.showError(note.firstChild, res.data, res.status);
          return;
        }
        (res.data.buildings || []).forEach(function (bo) {
          bo.houses.forEach(function (h) {
            state.occupants[h.code] = (state.occupants[h.code] || []).concat(h.occupants);
          });
        });
        // every page: a large building (2,000 residents) fills in as its pages come
        if (res.data.next) {
          state.occupantsPartial = true;
          renderOccupants();
          page(res.data.next);
          return;
        }
        state.occupantsPartial = false;
        note.innerHTML = '';
        renderOccupants();
      });
    }
    page(null);
  }

  /** "since <date>" in the page's language (gh:lang words it again). */
  function sinceHtml(date) {
    return '<span class="gh-since" data-date="' + G.escape(date) + '">' + G.escape(G.t('since_date').replace('{date}', date)) + '</span>';
  }

  /** Each house's occupants, drawn again after every change; a form open under an occupant
   *  (信息变更, 注销) stays open with what was typed while the occupant is still listed. */
  function renderOccupants() {
    document.querySelectorAll('#gh-houses ul.gh-occupants').forEach(function (list) {
      var open = {};
      list.querySelectorAll('li.gh-occupant > form[data-person]').forEach(function (form) {
        var uid = form.getAttribute('data-person');
        open[uid] = (open[uid] || []).concat([form]);
      });
      var people = state.occupants[list.getAttribute('data-house')] || [];
      if (!people.length) {
        list.innerHTML = G.tHtml(state.occupantsPartial ? 'loading' : 'no_occupants', 'li', ' class="text-muted small"');
        return;
      }
      list.innerHTML = people.map(function (o) {
        var uid = G.escape(o.uid);
        var out = G.config.canRegister
          ? G.tHtml('deregister', 'button', ' type="button" class="btn btn-sm btn-link text-danger gh-deregister" data-person="' + uid + '"') +
            G.tHtml('void', 'button', ' type="button" class="btn btn-sm btn-link text-danger gh-void" data-person="' + uid +
              '" data-since="' + G.escape(o.since) + '"') +
            G.tHtml('edit_person', 'button', ' type="button" class="btn btn-sm btn-link gh-edit-person" data-person="' + uid + '"')
          : '';
        var reveal = G.tHtml('reveal', 'button', ' type="button" class="btn btn-sm btn-link gh-reveal" data-person="' + uid + '"');
        return '<li class="gh-occupant" data-person="' + uid + '"><span class="gh-name">' + G.escape(o.name) + '</span> ' +
          '<span class="gh-id">' + G.escape(o.id_number || '') + '</span> ' +
          '<span class="gh-phone">' + G.escape(o.phone || '') + '</span>' + reveal + out +
          '<div class="small text-muted">' + G.tHtml(o.category) + ' · ' + G.tHtml(o.kind) + ' · ' + sinceHtml(o.since) +
          '</div></li>';
      }).join('');
      list.querySelectorAll('li.gh-occupant').forEach(function (item) {
        (open[item.getAttribute('data-person')] || []).forEach(function (form) { item.appendChild(form); });
        delete open[item.getAttribute('data-person')];
      });
    });
  }

  // ---- register and deregister (officers) ---------------------------------------------------

  /** An input whose placeholder follows the language. */
  function input(name, key, attributes) {
    return '<input class="form-control form-control-sm" name="' + name + '"' + attributes + ' data-i18n-placeholder="' + key +
      '" placeholder="' + G.escape(G.t(key)) + '">';
  }

  /** A form's save and cancel buttons (`save`: the save button's class). */
  function formButtons(save) {
    return G.tHtml('save', 'button', ' class="btn btn-sm ' + (save || 'btn-primary') + '" type="submit"') +
      G.tHtml('cancel', 'button', ' class="btn btn-sm btn-secondary gh-cancel" type="button"');
  }

  function registerForm(houseCode) {
    var options = KINDS.map(function (k) { return G.tHtml(k, 'option', ' value="' + k + '"'); }).join('');
    return '<form class="gh-register-form" data-house="' + houseCode + '">' +
      input('name', 'name', ' required maxlength="100"') +
      input('id_number', 'id_number', ' required maxlength="40"') +
      input('phone', 'phone', ' maxlength="30"') +
      '<div class="d-flex gap-1"><select class="form-select form-select-sm" name="kind">' + options + '</select>' +
      '<input class="form-control form-control-sm" type="date" name="moved_in" required value="' + G.today() +
      '" max="' + G.today() + '"></div>' +
      '<label class="small"><input type="checkbox" name="ends_previous"> ' + G.tHtml('ends_previous') + '</label>' +
      '<div class="gh-form-error text-danger small"></div>' +
      '<div class="d-flex gap-1">' + formButtons() + '</div></form>';
  }

  function submitRegistration(form) {
    var data = new FormData(form);
    var person = { name: data.get('name').trim(), id_number: data.get('id_number').trim() };
    if (data.get('phone').trim()) { person.phone = data.get('phone').trim(); }
    var body = {
      house_code: form.getAttribute('data-house'), person: person,
      moved_in: data.get('moved_in'), kind: data.get('kind'), declared_by: 'officer',
      ends_previous: data.get('ends_previous') === 'on'
    };
    submitForm(form, 'POST', '/api/residences', body);
  }

  /** Send a form's request: its error shown in the form, or the form closed and the occupants
   *  read again. */
  function submitForm(form, method, url, body) {
    form.querySelector('button[type=submit]').disabled = true;
    G.api(method, url, body).then(function (res) {
      form.querySelector('button[type=submit]').disabled = false;
      if (!res.ok) {
        G.showError(form.querySelector('.gh-form-error'), res.data, res.status);
        return;
      }
      form.remove();
      G.toast(G.t('saved'), 'ok');
      loadOccupants();
    });
  }

  /** POST `action` to the person's residence in this house that `matches` (the one the page
   *  shows: the person's residences are read first). `body` is the request's body, or a function
   *  of the residence found and all the person's residences giving it. Resolves to the answer,
   *  or to null once a toast has said why not. */
  function actOnResidence(personUid, houseCode, matches, action, body) {
    return G.api('GET', '/api/people/' + encodeURIComponent(personUid)).then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return null; }
      var residences = res.data.residences || [];
      var found = residences.filter(function (r) {
        return r.house_code === houseCode && matches(r);
      })[0];
      if (!found) { G.toast(G.t('not_found'), 'error'); return null; }
      var payload = typeof body === 'function' ? body(found, residences) : body;
      return G.api('POST', '/api/residences/' + found.uid + '/' + action, payload);
    }).then(function (res) {
      if (res && !res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return null; }
      return res;
    });
  }

  function deregisterForm(personUid) {
    return '<form class="gh-deregister-form d-flex gap-1 align-items-center" data-person="' + G.escape(personUid) + '">' +
      G.tHtml('moved_out', 'label', ' class="small"') +
      '<input class="form-control form-control-sm" type="date" name="moved_out" required value="' + G.today() +
      '" max="' + G.today() + '">' +
      G.tHtml('deregister', 'button', ' class="btn btn-sm btn-danger" type="submit"') +
      G.tHtml('cancel', 'button', ' class="btn btn-sm btn-secondary gh-cancel" type="button"') + '</form>';
  }

  /** End the person's open residence in this house on the day they left (asked for, default
   *  today: a departure reported late is dated when it happened). */
  function deregister(form) {
    var personUid = form.getAttribute('data-person');
    var houseCode = form.closest('li.gh-house').getAttribute('data-code');
    var movedOut = new FormData(form).get('moved_out');
    form.querySelector('button[type=submit]').disabled = true;
    var open = function (r) { return !r.deregistered_at && (!r.until || r.until > G.today()); };
    actOnResidence(personUid, houseCode, open, 'deregister', { moved_out: movedOut }).then(function (res) {
      var button = form.querySelector('button[type=submit]');
      if (button) { button.disabled = false; }
      if (!res) { return; }
      G.toast(G.t('saved'), 'ok');
      loadOccupants();
    });
  }

  function personForm(personUid) {
    return '<form class="gh-person-form d-flex flex-wrap gap-1 align-items-center" data-person="' + G.escape(personUid) + '">' +
      input('phone', 'new_phone', ' maxlength="30"') + input('occupation', 'occupation', ' maxlength="100"') +
      '<div class="gh-form-error text-danger small w-100"></div>' + formButtons() + '</form>';
  }

  /** A person's new phone or occupation (信息变更); an empty field is left as it is. */
  function submitPerson(form) {
    var data = new FormData(form);
    var body = {};
    ['phone', 'occupation'].forEach(function (name) {
      var value = String(data.get(name) || '').trim();
      if (value) { body[name] = value; }
    });
    if (!Object.keys(body).length) { form.remove(); return; }
    submitForm(form, 'PATCH', '/api/people/' + encodeURIComponent(form.getAttribute('data-person')), body);
  }

  /** Take back a registration made in error (the wrong person, house or dates): asked for the
   *  reason, then the residence shown (this house, from this day) is voided, as if never made. */
  function voidRegistration(button) {
    var reason = window.prompt(G.t('void_reason'));
    if (reason === null || !reason.trim()) { return; }
    var personUid = button.getAttribute('data-person');
    var since = button.getAttribute('data-since');
    var houseCode = button.closest('li.gh-house').getAttribute('data-code');
    button.disabled = true;
    var shown = function (r) { return r.since === since; };
    // a move made in error: the residence it ended (shown when in the officer's grids) may be
    // opened again, the person never having moved
    var body = function (found, residences) {
      var ended = found.is_primary && !found.until && residences.filter(function (r) {
        return r.is_primary && r.until === found.since;
      })[0];
      var reopen = !!ended && window.confirm(G.t('void_reopen').split('{house}').join(ended.house_code));
      return { reason: reason.trim(), reopen_previous: reopen };
    };
    actOnResidence(personUid, houseCode, shown, 'void', body).then(function (res) {
      button.disabled = false;
      if (!res) { return; }
      G.toast(G.t(res.data.reopened ? 'reopened' : 'voided'), 'ok');
      loadOccupants();
    });
  }

  // ---- add a house found on a walk (officers in their grids, admins) --------------------------

  function houseForm() {
    var uses = USES.map(function (u) { return G.tHtml(u, 'option', ' value="' + u + '"'); }).join('');
    return '<form class="gh-house-form" id="gh-house-form">' +
      '<div class="d-flex gap-1">' + input('floor', 'floor', ' type="number" min="-10" max="300" step="1"') +
      input('room', 'room', ' maxlength="20"') + '</div>' +
      '<div class="d-flex gap-1"><select class="form-select form-select-sm" name="use">' + uses + '</select>' +
      input('area_m2', 'area_m2', ' type="number" min="0" step="any"') +
      input('rooms', 'rooms', ' type="number" min="1" max="999" step="1"') + '</div>' +
      '<label class="small"><input type="checkbox" name="is_rented"> ' + G.tHtml('rented') + '</label>' +
      '<div class="gh-form-error text-danger small"></div>' +
      '<div class="d-flex gap-1">' + formButtons() + '</div></form>';
  }

  /** Add the house; it takes the building's next unit (a new, permanent code) and is listed at
   *  the end of the building's houses (the panel's open forms stay as they are). */
  function submitHouse(form) {
    var data = new FormData(form);
    var body = { use: data.get('use'), is_rented: data.get('is_rented') === 'on' };
    ['floor', 'room', 'area_m2', 'rooms'].forEach(function (name) {
      var value = String(data.get(name) || '').trim();
      if (value) { body[name] = name === 'room' ? value : Number(value); }
    });
    form.querySelector('button[type=submit]').disabled = true;
    G.api('POST', '/api/buildings/' + encodeURIComponent(state.building.id) + '/houses', body).then(function (res) {
      form.querySelector('button[type=submit]').disabled = false;
      if (!res.ok) {
        G.showError(form.querySelector('.gh-form-error'), res.data, res.status);
        return;
      }
      form.remove();
      state.building.houses.push(res.data);
      $('gh-houses').insertAdjacentHTML('beforeend', houseItem(res.data));
      $('gh-house-count').textContent = String(state.building.houses.length);
      renderOccupants();
      var item = document.querySelector('#gh-houses > li[data-code="' + res.data.code + '"]');
      item.classList.add('gh-focus');
      item.scrollIntoView({ block: 'center' });
      G.toast(G.t('house_added'), 'ok');
    });
  }

  /** Mark a house let or no longer let (a tenant moving into a let house must be declared);
   *  only that house's line is drawn again (the panel's open forms stay as they are). */
  function toggleLet(button) {
    var code = button.getAttribute('data-house');
    var rented = button.getAttribute('data-rented') !== 'true';
    button.disabled = true;
    G.api('PATCH', '/api/houses/' + encodeURIComponent(code), { is_rented: rented }).then(function (res) {
      button.disabled = false;
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      state.building.houses = state.building.houses.map(function (h) { return h.code === code ? res.data : h; });
      var head = button.closest('.gh-house-head');
      if (head && head.isConnected) { head.outerHTML = houseHead(res.data); }
      G.toast(G.t('saved'), 'ok');
    });
  }

  /** Full ID number and phone of one occupant, for a stated reason (audited; masked again when
   *  the list is drawn again). */
  function reveal(button) {
    var suggested = ($('gh-purpose') && $('gh-purpose').value.trim()) || '';
    var reason = window.prompt(G.t('reveal_reason'), suggested);
    if (reason === null || !reason.trim()) { return; }
    var uid = button.getAttribute('data-person');
    button.disabled = true;
    G.api('POST', '/api/people/' + encodeURIComponent(uid) + '/reveal', { reason: reason.trim() }).then(function (res) {
      button.disabled = false;
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      var item = button.closest('li.gh-occupant');
      item.querySelector('.gh-id').textContent = res.data.id_number || '';
      item.querySelector('.gh-phone').textContent = res.data.phone || '';
      item.classList.add('gh-revealed');
      button.remove();
    });
  }

  function bindPanel() {
    $('gh-panel-close').addEventListener('click', closePanel);
    $('gh-panel-body').addEventListener('click', function (e) {
      var target = e.target;
      if (target.classList.contains('gh-register')) {
        var slot = target.closest('li.gh-house').querySelector('.gh-form-slot');
        if (!slot.querySelector('form')) { slot.innerHTML = registerForm(target.getAttribute('data-house')); }
        slot.querySelector('input[name=name]').focus();
      } else if (target.classList.contains('gh-cancel')) {
        target.closest('form').remove();
      } else if (target.id === 'gh-add-house') {
        if (!$('gh-house-form')) { $('gh-house-form-slot').innerHTML = houseForm(); }
        $('gh-house-form').querySelector('input[name=floor]').focus();
      } else if (target.id === 'gh-report-event') {
        if (!$('gh-event-form')) { $('gh-event-form-slot').innerHTML = G.eventPanel.eventForm(); }
        $('gh-event-form').querySelector('input[name=title]').focus();
      } else if (target.classList.contains('gh-step')) {
        G.eventPanel.takeStep(target);
      } else if (target.classList.contains('gh-let')) {
        toggleLet(target);
      } else if (target.classList.contains('gh-reveal')) {
        reveal(target);
      } else if (target.classList.contains('gh-void')) {
        voidRegistration(target);
      } else if (target.classList.contains('gh-edit-person')) {
        var item = target.closest('li.gh-occupant');
        if (!item.querySelector('form.gh-person-form')) {
          item.insertAdjacentHTML('beforeend', personForm(target.getAttribute('data-person')));
          item.querySelector('form.gh-person-form input[name=phone]').focus();
        }
      } else if (target.classList.contains('gh-deregister')) {
        var occupant = target.closest('li.gh-occupant');
        if (!occupant.querySelector('form.gh-deregister-form')) {
          occupant.insertAdjacentHTML('beforeend', deregisterForm(target.getAttribute('data-person')));
        }
      }
    });
    $('gh-panel-body').addEventListener('change', function (e) {
      if (e.target.id === 'gh-photo-input' && e.target.files.length && state.event) {
        e.target.disabled = true;
        G.eventPanel.attachPhoto(state.event.id, e.target.files[0]);
      }
    });
    $('gh-panel-body').addEventListener('submit', function (e) {
      if (e.target.classList.contains('gh-register-form')) {
        e.preventDefault();
        submitRegistration(e.target);
      } else if (e.target.classList.contains('gh-house-form')) {
        e.preventDefault();
        submitHouse(e.target);
      } else if (e.target.classList.contains('gh-deregister-form')) {
        e.preventDefault();
        deregister(e.target);
      } else if (e.target.classList.contains('gh-person-form')) {
        e.preventDefault();
        submitPerson(e.target);
      } else if (e.target.classList.contains('gh-event-form')) {
        e.preventDefault();
        G.eventPanel.submitEvent(e.target);
      } else if (e.target.classList.contains('gh-step-form')) {
        e.preventDefault();
      }
    });
    var purpose = $('gh-purpose');
    if (purpose) {
      purpose.value = sessionStorage.getItem('gh-purpose') || '';
      purpose.addEventListener('change', function () {
        // the same purpose again (a second change event on blur): nothing to reload
        if (purpose.value.trim() === (sessionStorage.getItem('gh-purpose') || '') && !state.pendingEvent) { return; }
        sessionStorage.setItem('gh-purpose', purpose.value.trim());
        if (state.building) { loadOccupants(); } else if (state.pendingEvent) { G.eventPanel.openEvent(state.pendingEvent); }
      });
    }
  }

  // ---- search ------------------------------------------------------------------------------

  function flyToBuilding(code, houseCode) {
    return G.api('GET', '/api/buildings/' + encodeURIComponent(code)).then(function (res) {
      if (!res.ok) { G.toast(G.t('not_found'), 'error'); return; }
      var bounds = L.geoJSON(res.data.geometry).getBounds();
      state.map.fitBounds(bounds, { maxZoom: 18 });
      openBuilding(res.data.id, houseCode);
    });
  }

  function showResults(items) {
    var box = $('gh-search-results');
    if (!items.length) { box.hidden = true; G.toast(G.t('not_found'), 'error'); return; }
    box.innerHTML = items.map(function (item, i) {
      return '<button type="button" class="list-group-item list-group-item-action" data-i="' + i + '">' +
        G.escape(item.label) + '<div class="small text-muted">' + G.escape(item.detail) + '</div></button>';
    }).join('');
    box.hidden = false;
    box.onclick = function (e) {
      var button = e.target.closest('button[data-i]');
      if (!button) { return; }
      var item = items[Number(button.getAttribute('data-i'))];
      box.hidden = true;
      flyToBuilding(buildingCodeOf(item.house), item.house);
    };
  }

  function search(query) {
    var compact = query.replace(/[\s-]/g, '').toUpperCase();
    if (/^[0-9]{24}[0-9X]$/.test(compact)) {
      var expected = checkChar(compact.slice(0, 24));
      if (compact[24] !== expected) {  // a mistyped code must not open a building anyway
        G.toast(G.t('bad_check_char').replace('{c}', expected), 'error');
        return null;
      }
      var isBuilding = compact.slice(19, 24) === '00000';
      return flyToBuilding(buildingCodeOf(compact), isBuilding ? null : compact);
    }
    if (!G.config.canSearchPeople || !G.config.peopleSearchUrl) { G.toast(G.t('not_found'), 'error'); return null; }
    var purpose = purposeParam();
    if (purpose === null) { G.toast(G.t('purpose_needed'), 'error'); return null; }
    var url = G.config.peopleSearchUrl + '?q=' + encodeURIComponent(query) + purpose;
    return G.api('GET', url).then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      var items = [];
      (res.data.items || []).forEach(function (person) {
        (person.houses || []).forEach(function (house) {
          items.push({ label: person.name + ' ' + (person.id_number || ''), detail: house, house: house });
        });
      });
      showResults(items);
    });
  }

  // ---- controls ----------------------------------------------------------------------------

  function locateControl(map) {
    var Locate = L.Control.extend({
      options: { position: 'topleft' },
      onAdd: function () {
        var bar = L.DomUtil.create('div', 'leaflet-bar gh-locate');
        var a = L.DomUtil.create('a', '', bar);
        a.href = '#';
        a.id = 'gh-locate';
        a.setAttribute('role', 'button');
        a.setAttribute('data-i18n-title', 'locate_me');
        a.title = G.t('locate_me');
        a.innerHTML = '<i class="fa-solid fa-location-crosshairs"></i>';
        L.DomEvent.on(a, 'click', function (e) {
          L.DomEvent.preventDefault(e);
          map.locate({ setView: true, maxZoom: 17, enableHighAccuracy: true, timeout: 10000 });
        });
        L.DomEvent.disableClickPropagation(bar);
        return bar;
      }
    });
    new Locate().addTo(map);
    var marker = null;
    map.on('locationfound', function (e) {
      if (marker) { marker.remove(); }
      marker = L.circle(e.latlng, { radius: Math.max(e.accuracy, 10), color: '#1a73e8', weight: 2, fillOpacity: 0.15 }).addTo(map);
    });
    map.on('locationerror', function () { G.toast(G.t('location_failed'), 'error'); });
  }

  function zoomHint(map) {
    var hint = L.DomUtil.create('div', 'gh-zoom-hint', map.getContainer());
    hint.setAttribute('data-i18n', 'zoom_in_for_buildings');
    hint.textContent = G.t('zoom_in_for_buildings');
    var update = function () { hint.hidden = map.getZoom() >= G.config.buildingsZoom; };
    map.on('zoomend', update);
    update();
  }

  function onBaseLayerChange(map, layerName) {
    var offline = layerName === G.t('layer_offline') || layerName === G.config.messages.zh.layer_offline ||
      layerName === G.config.messages.en.layer_offline;
    map.getContainer().classList.toggle('gh-offline', offline);
    if (G.tiles.roadsVisible !== offline) {
      G.tiles.roadsVisible = offline;
      if (state.data) { state.data.redraw(); }
    }
  }

  // ---- start -------------------------------------------------------------------------------

  G.officer = {
    state: state,
    openBuilding: openBuilding,
    openEvent: function (id) { return G.eventPanel.openEvent(id); },
    search: search,

    start: function (map, config) {
      G.initCommon(config);
      state.map = map;
      state.data = window[config.layers.data];
      G.officerMap = map;
      map.getContainer().classList.toggle('gh-offline', config.basemap === 'offline');
      G.tiles.roadsVisible = config.basemap === 'offline';
      map.on('baselayerchange', function (e) { onBaseLayerChange(map, e.name); });
      G.tiles.watchLoading(state.data);
      state.data.on('click', function (e) {
        var p = (e.layer && e.layer.properties) || {};
        if (p.h3 !== undefined) {
          map.setView(e.latlng, Math.min(map.getZoom() + 2, 18));
        } else if (p.id !== undefined && p.kind) {
          G.eventPanel.openEvent(p.id);
        } else if (p.code && p.code.length === 25) {
          openBuilding(p.code);
        } else if (p.code && p.code.length === 15) {
          G.toast(G.t('grid') + ' ' + p.code + (p.name ? ' ' + p.name : '') + ' · ' + G.t(p['class']));
        }
      });
      G.tiles.legend(map);
      locateControl(map);
      zoomHint(map);
      G.eventPanel.init({
        state: state, select: select, setTitle: setTitle, openPanel: openPanel, purposeParam: purposeParam
      });
      bindPanel();
      $('gh-search').addEventListener('submit', function (e) {
        e.preventDefault();
        var q = $('gh-search-input').value.trim();
        if (q) { search(q); }
      });
      // the panels' words are marked and translated in place (open forms keep what was typed);
      // only a date inside a sentence is worded again here
      document.addEventListener('gh:lang', function () {
        document.querySelectorAll('#gh-panel-body .gh-since').forEach(function (span) {
          span.textContent = G.t('since_date').replace('{date}', span.getAttribute('data-date'));
        });
      });
      document.body.setAttribute('data-ready', 'map');
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
