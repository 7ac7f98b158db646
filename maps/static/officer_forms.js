/* gridhouse /map, the building panel's forms (officers): register an arrival, deregister a
   departure, void a registration made in error, change a person's phone or occupation, add a
   house, mark a house let; reveal an occupant's full ID number and phone; and the panel's
   clicks, submits and purpose wired to them and to the events panel (events.js). officer.js,
   loaded before this file, draws the panel and holds the page's state (G.officer). */
(function (G) {
  'use strict';

  var page = G.officer;  // officer.js: {state, closePanel, loadOccupants, renderOccupants, houseHead, houseItem}
  var state = page.state;
  var KINDS = ['tenant', 'owner', 'family', 'dormitory', 'temporary'];
  /** Who declared an arrival (gis.people.models.DeclaredBy); a landlord's declaration of a
   *  tenant in a let house is made with it, any other waits for 房东已申报. */
  var DECLARED_BY = ['officer', 'landlord', 'self', 'employer'];
  var USES = ['residential', 'commercial', 'mixed', 'dorm', 'office', 'other'];

  function $(id) { return document.getElementById(id); }
  function closePanel() { page.closePanel(); }
  function loadOccupants() { page.loadOccupants(); }
  function renderOccupants() { page.renderOccupants(); }
  function houseHead(h) { return page.houseHead(h); }
  function houseItem(h) { return page.houseItem(h); }

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
      '<label class="small d-flex gap-1 align-items-center">' + G.tHtml('declared_by') +
      '<select class="form-select form-select-sm w-auto" name="declared_by">' + DECLARED_BY.map(function (d) {
        return G.tHtml('declared_by_' + d, 'option', ' value="' + d + '"');
      }).join('') + '</select></label>' +
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
      moved_in: data.get('moved_in'), kind: data.get('kind'), declared_by: data.get('declared_by'),
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
   *  of the residence found and all the person's residences giving it; `missing`: the message
   *  key when none matches. Resolves to the answer, or to null once a toast has said why not. */
  function actOnResidence(personUid, houseCode, matches, action, body, missing) {
    return G.api('GET', '/api/people/' + encodeURIComponent(personUid)).then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return null; }
      var residences = res.data.residences || [];
      var found = residences.filter(function (r) {
        return r.house_code === houseCode && matches(r);
      })[0];
      if (!found) { G.toast(G.t(missing || 'not_found'), 'error'); return null; }
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
    // the residence not deregistered: open, ending later, or ended on a known day that passed
    var open = function (r) { return !r.deregistered_at; };
    actOnResidence(personUid, houseCode, open, 'deregister', { moved_out: movedOut }).then(function (res) {
      var button = form.querySelector('button[type=submit]');
      if (button) { button.disabled = false; }
      if (!res) { return; }
      G.toast(G.t('saved'), 'ok');
      loadOccupants();
    });
  }

  /** The landlord has declared this tenant (出租屋业主申报): recorded on the residence shown
   *  whose declaration is due or overdue (officer.js offers it only on such a residence). */
  function recordDeclaration(button) {
    var personUid = button.getAttribute('data-person');
    var houseCode = button.closest('li.gh-house').getAttribute('data-code');
    var due = function (r) { return !r.deregistered_at && r.declaration && !r.declaration.declared_at; };
    button.disabled = true;
    actOnResidence(personUid, houseCode, due, 'declaration', undefined, 'no_declaration_due').then(function (res) {
      button.disabled = false;
      if (!res) { return; }
      G.toast(G.t('declaration_recorded'), 'ok');
      page.declarationMade(houseCode, personUid);
      G.officerOverdue.load();
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
        return r.is_primary && r.ended_by === found.uid;
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
      renderOccupants();  // a tenant who moved in before the house was let owes no declaration
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
      } else if (target.classList.contains('gh-open-event')) {
        G.eventPanel.openEvent(Number(target.getAttribute('data-event')));
      } else if (target.id === 'gh-back-building') {
        page.restoreBuilding();
      } else if (target.classList.contains('gh-declared')) {
        recordDeclaration(target);
      } else if (target.classList.contains('gh-declared-overdue')) {
        G.officerOverdue.declare(target);
      } else if (target.classList.contains('gh-deregister-overdue')) {
        G.officerOverdue.deregister(target);
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
    var at = $('gh-at');  // police: occupants on another day
    if (at) {
      at.addEventListener('change', function () { if (state.building) { loadOccupants(); } });
    }
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

  G.officerForms = {
    bindPanel: bindPanel
  };
})(window.Gridhouse = window.Gridhouse || {});
