/* gridhouse /map, events: report an event from a building's panel (with a photo), show an event
   with its steps and photos, attach photos (large ones made smaller here, the server checks the
   bytes), move it through its steps. officer.js owns the panel and hands it over (init). */
(function (G) {
  'use strict';

  var PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
  /** Longest side (pixels) and JPEG quality tried in turn to bring a large photo under the limit. */
  var PHOTO_STEPS = [[2048, 0.85], [1600, 0.8], [1280, 0.75], [1024, 0.7], [800, 0.6]];
  var page = null;  // officer.js: {state, select, setTitle, openPanel, purposeParam, stashBuilding}
  var state = null;

  function $(id) { return document.getElementById(id); }
  function select(code) { page.select(code); }
  function setTitle(keys) { page.setTitle(keys); }
  function openPanel() { page.openPanel(); }
  function purposeParam() { return page.purposeParam(); }
  /** `?purpose=…` for police (the purpose stated on the page), '' for everyone else. */
  function purposeQuery(purpose) { return purpose ? '?' + purpose.slice(1) : ''; }

  function eventForm() {
    var kinds = (G.config.eventKinds || []).map(function (k) {
      return G.tHtml(k, 'option', ' value="' + k + '"');
    }).join('');
    return '<form class="gh-event-form" id="gh-event-form">' +
      '<select class="form-select form-select-sm" name="kind">' + kinds + '</select>' +
      '<input class="form-control form-control-sm" name="title" required maxlength="200" data-i18n-placeholder="event_title" placeholder="' +
      G.escape(G.t('event_title')) + '">' +
      '<textarea class="form-control form-control-sm" name="description" maxlength="2000" rows="2" data-i18n-placeholder="event_note" placeholder="' +
      G.escape(G.t('event_note')) + '"></textarea>' +
      '<label class="small text-muted">' + G.tHtml('photo_optional') +
      '<input class="form-control form-control-sm" type="file" name="photo" accept="' + PHOTO_TYPES.join(',') + '"></label>' +
      '<div class="gh-form-error text-danger small"></div>' +
      '<div class="d-flex gap-1">' + G.tHtml('save', 'button', ' class="btn btn-sm btn-danger" type="submit"') +
      G.tHtml('cancel', 'button', ' class="btn btn-sm btn-secondary gh-cancel" type="button"') + '</div></form>';
  }

  function submitEvent(form) {
    var data = new FormData(form);
    var body = {
      kind: data.get('kind'), title: data.get('title').trim(), building_code: state.building.id
    };
    if (data.get('description').trim()) { body.description = data.get('description').trim(); }
    var photo = form.querySelector('input[name=photo]').files[0] || null;
    form.querySelector('button[type=submit]').disabled = true;
    G.api('POST', '/api/events', body).then(function (res) {
      form.querySelector('button[type=submit]').disabled = false;
      if (!res.ok) {
        G.showError(form.querySelector('.gh-form-error'), res.data, res.status);
        return;
      }
      G.toast(G.t('saved'), 'ok');
      refreshEvents();
      // the building panel stays, with its other open forms and what was typed in them: the
      // saved event is named under the button that reported it, and opens from there
      form.remove();
      var saved = $('gh-event-saved');
      if (saved) { saved.remove(); }
      $('gh-event-form-slot').insertAdjacentHTML('afterend', savedNote(res.data));
      if (photo) { attachPhoto(res.data.id, photo); }
    });
  }

  /** "Event #12 reported: <title> [open]", with the state of its photo being sent. */
  function savedNote(e) {
    return '<div class="gh-event-saved small" id="gh-event-saved" data-event="' + e.id + '">' +
      G.tHtml('event_reported') + ' #' + e.id + ' ' + G.escape(e.title) + ' ' +
      G.tHtml('open_event', 'button', ' type="button" class="btn btn-sm btn-link gh-open-event" data-event="' + e.id + '"') +
      '<div class="small text-muted" id="gh-photo-status"></div>' +
      '<div class="gh-photo-error text-danger small" id="gh-photo-error" role="alert"></div></div>';
  }

  /** "← Back to the building" while the building panel an event was opened from is kept. */
  function backButton() {
    return state.stash
      ? G.tHtml('back_to_building', 'button', ' type="button" class="btn btn-sm btn-link px-0 gh-back-building" id="gh-back-building"')
      : '';
  }

  // ---- event photos: checked by the server from their bytes; large ones scaled down here ----

  /** "YYYY-MM-DD HH:MM" in China's time (UTC+8 all year) of an ISO timestamp the API gives. */
  function chinaTime(iso) {
    var ms = Date.parse(iso);
    if (isNaN(ms)) { return String(iso || ''); }
    return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
  }

  function formatBytes(n) { return Number(n).toLocaleString('en-US'); }

  function tooLarge(size) {
    return G.t('photo_too_large').replace('{size}', formatBytes(size)).replace('{max}', formatBytes(G.config.photoMaxBytes));
  }

  /** Why a photo was not attached: an Error whose `words` give its text in the page's language
   *  at any time (G.showError words it again when the language changes). */
  function refusal(words) {
    var error = new Error(words());
    error.words = words;
    return error;
  }

  function wrongType() { return G.t('photo_type'); }

  /** The photo to send: the file itself when small enough (the server checks its type), else
      a JPEG made from it small enough to fit (when the browser can read it as an image). */
  function fitPhoto(file) {
    var max = G.config.photoMaxBytes;
    if (file.size <= max) { return Promise.resolve(file); }
    if (PHOTO_TYPES.indexOf(file.type) < 0 || !window.createImageBitmap) {
      return Promise.reject(refusal(PHOTO_TYPES.indexOf(file.type) < 0 ? wrongType : function () { return tooLarge(file.size); }));
    }
    return createImageBitmap(file).catch(function () {
      throw refusal(wrongType);
    }).then(function (bitmap) {
      function attempt(i) {
        if (i >= PHOTO_STEPS.length) { throw refusal(function () { return tooLarge(file.size); }); }
        var scale = Math.min(1, PHOTO_STEPS[i][0] / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement('canvas');
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', PHOTO_STEPS[i][1]); })
          .then(function (blob) { return blob && blob.size <= max ? blob : attempt(i + 1); });
      }
      return attempt(0);
    });
  }

  function base64Of(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(',')[1] || ''); };
      reader.onerror = function () { reject(refusal(function () { return G.t('load_failed'); })); };
      reader.readAsDataURL(blob);
    });
  }

  /** Send a photo of event `id`; then show the event again (with it), or the reason it was refused. */
  function attachPhoto(id, file) {
    G.showError($('gh-photo-error'), null);
    var status = $('gh-photo-status');
    if (status) { status.innerHTML = G.tHtml('uploading'); }
    return fitPhoto(file).then(base64Of).then(function (content) {
      return G.api('POST', '/api/events/' + encodeURIComponent(id) + '/photos', { content_base64: content });
    }).then(function (res) {
      if (!res.ok) { throw refusal(function () { return G.errorText(res.data, res.status); }); }
      G.toast(G.t('photo_saved'), 'ok');
      return reloadEvent(id, null);
    }).catch(function (error) {
      return reloadEvent(id, error.words || function () { return error.message || String(error); });
    });
  }

  function reloadEvent(id, photoError) {
    return G.api('GET', '/api/events/' + encodeURIComponent(id) + purposeQuery(purposeParam())).then(function (res) {
      if (res.ok && state.event && state.event.id === id) { renderEvent(res.data, true); }
      if (photoError) { G.showError($('gh-photo-error'), photoError); }
      var status = $('gh-photo-status');
      if (status) { status.innerHTML = ''; }
    });
  }

  function photosMarkup(e) {
    var items = (e.photos || []).map(function (p) {
      var url = '/api/events/' + e.id + '/photos/' + encodeURIComponent(p.uid) + purposeQuery(purposeParam());
      return '<a class="gh-photo" href="' + url + '" target="_blank" rel="noopener" data-uid="' + G.escape(p.uid) +
        '" data-type="' + G.escape(p.content_type) + '" title="' + G.escape(p.uploaded_by + ' · ' + chinaTime(p.uploaded_at)) +
        '"><img src="' + url + '" data-i18n-alt="photo" alt="' + G.escape(G.t('photo')) + '" loading="lazy"></a>';
    }).join('');
    var html = G.tHtml('event_photos', 'h6') + '<div class="gh-photos" id="gh-event-photos">' +
      (items || G.tHtml('no_photos', 'span', ' class="text-muted small"')) + '</div>';
    if (G.config.canRegister && e.next_statuses.length) {
      html += '<label class="small text-muted d-block">' + G.tHtml('add_photo') +
        '<input class="form-control form-control-sm" type="file" id="gh-photo-input" accept="' + PHOTO_TYPES.join(',') + '"></label>' +
        '<div class="small text-muted" id="gh-photo-status"></div>';
    }
    return html + '<div class="gh-photo-error text-danger small" id="gh-photo-error" role="alert"></div>';
  }

  function refreshEvents() {
    if (state.data && state.data.redraw) { state.data.redraw(); }
  }

  function openEvent(id) {
    page.stashBuilding();
    select(null);
    state.building = null;
    state.event = null;
    setTitle(['event']);
    openPanel();
    var purpose = purposeParam();
    state.pendingEvent = null;
    if (purpose === null) {
      state.pendingEvent = id;  // opened once a purpose is stated (officer_forms.js bindPanel)
      $('gh-panel-body').innerHTML = backButton() + G.tHtml('purpose_needed', 'p', ' class="gh-note"');
      return;
    }
    G.api('GET', '/api/events/' + encodeURIComponent(id) + purposeQuery(purpose)).then(function (res) {
      if (!res.ok) {
        $('gh-panel-body').innerHTML = backButton() + '<p class="text-danger"></p>';
        G.showError($('gh-panel-body').lastChild, res.data, res.status);
        return;
      }
      renderEvent(res.data);
    });
  }

  /** A click on an event's dot (`id`, the one drawn on top): events at the same spot draw one
   *  dot, so the open events within a few pixels of the click are read (GET /api/events?bbox=)
   *  and, when there are several, listed in the panel, each opening on a click; one opens at
   *  once. */
  function openEventsAt(latlng, id) {
    var purpose = purposeParam();
    if (purpose === null) { openEvent(id); return; }  // asked for once a purpose is stated
    var map = state.map;
    var at = map.latLngToContainerPoint(latlng);
    var low = map.containerPointToLatLng([at.x - 8, at.y + 8]);
    var high = map.containerPointToLatLng([at.x + 8, at.y - 8]);
    var bbox = [low.lng, low.lat, high.lng, high.lat].map(function (n) { return n.toFixed(7); }).join(',');
    G.api('GET', '/api/events?open=true&limit=100&bbox=' + encodeURIComponent(bbox) + purpose).then(function (res) {
      var items = res.ok ? res.data.items : [];
      if (items.length <= 1) { openEvent(id); return; }
      renderEventList(items);
    });
  }

  /** Several events at one spot: each with its number, title, kind and state, opened on a click. */
  function renderEventList(items) {
    page.stashBuilding();
    select(null);
    state.building = null;
    state.event = null;
    state.pendingEvent = null;
    setTitle(['events_here']);
    openPanel();
    $('gh-panel-body').innerHTML = backButton() + '<ul class="gh-event-list list-unstyled" id="gh-event-list">' +
      items.map(function (e) {
        return '<li data-event="' + e.id + '"><button type="button" class="btn btn-sm btn-link px-0 gh-open-event" data-event="' + e.id + '">#' +
          e.id + ' ' + G.escape(e.title) + '</button> ' + G.tHtml(e.kind, 'span', ' class="badge text-bg-light"') + ' ' +
          G.tHtml(e.status, 'span', ' class="badge text-bg-secondary"') +
          (e.is_overdue ? ' ' + G.tHtml('event_overdue', 'span', ' class="badge text-bg-danger"') : '') + '</li>';
      }).join('') + '</ul>';
  }

  /** The event's panel. Every word in it is marked (data-i18n), so a change of language
   *  translates it in place; `keep`: the same event drawn again (a photo added), the step form
   *  keeps what was typed. */
  function renderEvent(e, keep) {
    var typed = {};
    if (keep && $('gh-step-form')) {
      $('gh-step-form').querySelectorAll('[name]').forEach(function (field) { typed[field.name] = field.value; });
    }
    select(null);
    state.building = null;
    state.event = e;
    setTitle(['event', e.kind]);
    var facts = [
      ['event', '#' + e.id + ' ' + G.escape(e.title)],
      ['event_kind', G.tHtml(e.kind)],
      ['status', G.tHtml(e.status, 'span', ' id="gh-event-status" data-status="' + e.status + '"')],
      ['event_due', G.escape(chinaTime(e.due_at)) +
        (e.is_overdue ? ' ' + G.tHtml('event_overdue', 'span', ' class="badge text-bg-danger"') : '')]
    ];
    if (e.assignee || e.department) { facts.push(['assignee', G.escape(e.assignee || e.department)]); }
    var html = backButton() + '<dl class="gh-facts">' + facts.map(function (r) {
      return G.tHtml(r[0], 'dt') + '<dd>' + r[1] + '</dd>';
    }).join('') + '</dl>';
    html += G.tHtml('event_steps', 'h6') + '<ol class="gh-event-steps small" id="gh-event-steps">' +
      e.steps.map(function (s) {
        return '<li data-status="' + s.to_status + '">' + G.tHtml(s.to_status) + ' · ' + G.escape(s.actor) + ' · ' +
          G.escape(chinaTime(s.at)) + (s.note ? ' — ' + G.escape(s.note) : '') + '</li>';
      }).join('') + '</ol>';
    html += photosMarkup(e);
    if (G.config.canRegister && e.next_statuses.length) {
      html += '<form class="gh-step-form" id="gh-step-form">' +
        '<textarea class="form-control form-control-sm" name="note" rows="2" maxlength="2000" data-i18n-placeholder="event_note" placeholder="' +
        G.escape(G.t('event_note')) + '"></textarea>' +
        (e.next_statuses.indexOf('dispatched') >= 0
          ? '<input class="form-control form-control-sm" name="assignee" maxlength="64" value="' + G.escape(G.config.userName || '') +
            '" data-i18n-placeholder="assignee" placeholder="' + G.escape(G.t('assignee')) + '">'
          : '') +
        '<div class="gh-form-error text-danger small"></div><div class="d-flex flex-wrap gap-1">' +
        e.next_statuses.map(function (status) {
          return G.tHtml('step_' + status, 'button', ' type="button" class="btn btn-sm btn-outline-primary gh-step" data-status="' + status + '"');
        }).join('') + '</div></form>';
    }
    $('gh-panel-body').innerHTML = html;
    Object.keys(typed).forEach(function (name) {
      var field = $('gh-step-form') && $('gh-step-form').querySelector('[name="' + name + '"]');
      if (field) { field.value = typed[name]; }
    });
  }

  function takeStep(button) {
    var form = button.closest('form');
    var status = button.getAttribute('data-status');
    var body = { status: status };
    var note = form.querySelector('[name=note]').value.trim();
    if (note) { body.note = note; }
    var assignee = form.querySelector('[name=assignee]');
    if (status === 'dispatched' && assignee && assignee.value.trim()) { body.assignee = assignee.value.trim(); }
    button.disabled = true;
    G.api('POST', '/api/events/' + state.event.id + '/steps', body).then(function (res) {
      button.disabled = false;
      if (!res.ok) {
        G.showError(form.querySelector('.gh-form-error'), res.data, res.status);
        return;
      }
      G.toast(G.t('saved'), 'ok');
      refreshEvents();
      renderEvent(res.data);
    });
  }

  G.eventPanel = {
    init: function (helpers) { page = helpers; state = helpers.state; },
    eventForm: eventForm,
    submitEvent: submitEvent,
    openEvent: openEvent,
    openEventsAt: openEventsAt,
    renderEvent: renderEvent,
    takeStep: takeStep,
    attachPhoto: attachPhoto
  };
})(window.Gridhouse = window.Gridhouse || {});
