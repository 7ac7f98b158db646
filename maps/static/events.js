/* gridhouse /map, events: report an event from a building's panel (with a photo), show an event
   with its steps and photos, attach photos (large ones made smaller here, the server checks the
   bytes), move it through its steps. officer.js owns the panel and hands it over (init). */
(function (G) {
  'use strict';

  var PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
  /** Longest side (pixels) and JPEG quality tried in turn to bring a large photo under the limit. */
  var PHOTO_STEPS = [[2048, 0.85], [1600, 0.8], [1280, 0.75], [1024, 0.7], [800, 0.6]];
  var page = null;  // officer.js: {state, select, setTitle, openPanel, purposeParam}
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
      return '<option value="' + k + '">' + G.escape(G.t(k)) + '</option>';
    }).join('');
    return '<form class="gh-event-form" id="gh-event-form">' +
      '<select class="form-select form-select-sm" name="kind">' + kinds + '</select>' +
      '<input class="form-control form-control-sm" name="title" required maxlength="200" placeholder="' + G.escape(G.t('event_title')) + '">' +
      '<textarea class="form-control form-control-sm" name="description" maxlength="2000" rows="2" placeholder="' + G.escape(G.t('event_note')) + '"></textarea>' +
      '<label class="small text-muted">' + G.escape(G.t('photo_optional')) +
      '<input class="form-control form-control-sm" type="file" name="photo" accept="' + PHOTO_TYPES.join(',') + '"></label>' +
      '<div class="gh-form-error text-danger small"></div>' +
      '<div class="d-flex gap-1"><button class="btn btn-sm btn-danger" type="submit">' + G.escape(G.t('save')) + '</button>' +
      '<button class="btn btn-sm btn-secondary gh-cancel" type="button">' + G.escape(G.t('cancel')) + '</button></div></form>';
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
        form.querySelector('.gh-form-error').textContent = G.errorText(res.data, res.status);
        return;
      }
      G.toast(G.t('saved'), 'ok');
      refreshEvents();
      renderEvent(res.data);
      if (photo) { attachPhoto(res.data.id, photo); }
    });
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

  /** The photo to send: the file itself when small enough (the server checks its type), else
      a JPEG made from it small enough to fit (when the browser can read it as an image). */
  function fitPhoto(file) {
    var max = G.config.photoMaxBytes;
    if (file.size <= max) { return Promise.resolve(file); }
    if (PHOTO_TYPES.indexOf(file.type) < 0 || !window.createImageBitmap) {
      return Promise.reject(new Error(PHOTO_TYPES.indexOf(file.type) < 0 ? G.t('photo_type') : tooLarge(file.size)));
    }
    return createImageBitmap(file).catch(function () {
      throw new Error(G.t('photo_type'));
    }).then(function (bitmap) {
      function attempt(i) {
        if (i >= PHOTO_STEPS.length) { throw new Error(tooLarge(file.size)); }
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
      reader.onerror = function () { reject(new Error(G.t('load_failed'))); };
      reader.readAsDataURL(blob);
    });
  }

  /** Send a photo of event `id`; then show the event again (with it), or the reason it was refused. */
  function attachPhoto(id, file) {
    var box = $('gh-photo-error');
    if (box) { box.textContent = ''; }
    var status = $('gh-photo-status');
    if (status) { status.textContent = G.t('uploading'); }
    return fitPhoto(file).then(base64Of).then(function (content) {
      return G.api('POST', '/api/events/' + encodeURIComponent(id) + '/photos', { content_base64: content });
    }).then(function (res) {
      if (!res.ok) { throw new Error(G.errorText(res.data, res.status)); }
      G.toast(G.t('photo_saved'), 'ok');
      return reloadEvent(id, null);
    }).catch(function (error) {
      return reloadEvent(id, error.message || String(error));
    });
  }

  function reloadEvent(id, photoError) {
    return G.api('GET', '/api/events/' + encodeURIComponent(id) + purposeQuery(purposeParam())).then(function (res) {
      if (res.ok && state.event && state.event.id === id) { renderEvent(res.data); }
      var box = $('gh-photo-error');
      if (photoError && box) { box.textContent = photoError; }
      var status = $('gh-photo-status');
      if (status) { status.textContent = ''; }
    });
  }

  function photosMarkup(e) {
    var items = (e.photos || []).map(function (p) {
      var url = '/api/events/' + e.id + '/photos/' + encodeURIComponent(p.uid) + purposeQuery(purposeParam());
      return '<a class="gh-photo" href="' + url + '" target="_blank" rel="noopener" data-uid="' + G.escape(p.uid) +
        '" data-type="' + G.escape(p.content_type) + '" title="' + G.escape(p.uploaded_by + ' · ' + chinaTime(p.uploaded_at)) +
        '"><img src="' + url + '" alt="' + G.escape(G.t('photo')) + '" loading="lazy"></a>';
    }).join('');
    var html = '<h6 data-i18n="event_photos">' + G.escape(G.t('event_photos')) + '</h6>' +
      '<div class="gh-photos" id="gh-event-photos">' +
      (items || '<span class="text-muted small" data-i18n="no_photos">' + G.escape(G.t('no_photos')) + '</span>') + '</div>';
    if (G.config.canRegister && e.next_statuses.length) {
      html += '<label class="small text-muted d-block">' + G.escape(G.t('add_photo')) +
        '<input class="form-control form-control-sm" type="file" id="gh-photo-input" accept="' + PHOTO_TYPES.join(',') + '"></label>' +
        '<div class="small text-muted" id="gh-photo-status"></div>';
    }
    return html + '<div class="gh-photo-error text-danger small" id="gh-photo-error" role="alert"></div>';
  }

  function refreshEvents() {
    if (state.data && state.data.redraw) { state.data.redraw(); }
  }

  function openEvent(id) {
    select(null);
    state.building = null;
    state.event = null;
    setTitle(['event']);
    openPanel();
    var purpose = purposeParam();
    state.pendingEvent = null;
    if (purpose === null) {
      state.pendingEvent = id;  // opened once a purpose is stated (officer.js bindPanel)
      $('gh-panel-body').innerHTML = '<p class="gh-note">' + G.escape(G.t('purpose_needed')) + '</p>';
      return;
    }
    G.api('GET', '/api/events/' + encodeURIComponent(id) + purposeQuery(purpose)).then(function (res) {
      if (!res.ok) {
        $('gh-panel-body').innerHTML = '<p class="text-danger">' + G.escape(G.errorText(res.data, res.status)) + '</p>';
        return;
      }
      renderEvent(res.data);
    });
  }

  function renderEvent(e) {
    select(null);
    state.building = null;
    state.event = e;
    setTitle(['event', e.kind]);
    var facts = [
      ['event', '#' + e.id + ' ' + G.escape(e.title)],
      ['event_kind', G.escape(G.t(e.kind))],
      ['status', '<span id="gh-event-status" data-status="' + e.status + '">' + G.escape(G.t(e.status)) + '</span>'],
      ['event_due', G.escape(chinaTime(e.due_at)) +
        (e.is_overdue ? ' <span class="badge text-bg-danger">' + G.escape(G.t('event_overdue')) + '</span>' : '')]
    ];
    if (e.assignee || e.department) { facts.push(['assignee', G.escape(e.assignee || e.department)]); }
    var html = '<dl class="gh-facts">' + facts.map(function (r) {
      return '<dt>' + G.escape(G.t(r[0])) + '</dt><dd>' + r[1] + '</dd>';
    }).join('') + '</dl>';
    html += '<h6>' + G.escape(G.t('event_steps')) + '</h6><ol class="gh-event-steps small" id="gh-event-steps">' +
      e.steps.map(function (s) {
        return '<li data-status="' + s.to_status + '">' + G.escape(G.t(s.to_status)) + ' · ' + G.escape(s.actor) + ' · ' +
          G.escape(chinaTime(s.at)) + (s.note ? ' — ' + G.escape(s.note) : '') + '</li>';
      }).join('') + '</ol>';
    html += photosMarkup(e);
    if (G.config.canRegister && e.next_statuses.length) {
      html += '<form class="gh-step-form" id="gh-step-form">' +
        '<textarea class="form-control form-control-sm" name="note" rows="2" maxlength="2000" placeholder="' + G.escape(G.t('event_note')) + '"></textarea>' +
        (e.next_statuses.indexOf('dispatched') >= 0
          ? '<input class="form-control form-control-sm" name="assignee" maxlength="64" value="' + G.escape(G.config.userName || '') +
            '" placeholder="' + G.escape(G.t('assignee')) + '">'
          : '') +
        '<div class="gh-form-error text-danger small"></div><div class="d-flex flex-wrap gap-1">' +
        e.next_statuses.map(function (status) {
          return '<button type="button" class="btn btn-sm btn-outline-primary gh-step" data-status="' + status + '">' +
            G.escape(G.t('step_' + status)) + '</button>';
        }).join('') + '</div></form>';
    }
    $('gh-panel-body').innerHTML = html;
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
        form.querySelector('.gh-form-error').textContent = G.errorText(res.data, res.status);
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
    renderEvent: renderEvent,
    takeStep: takeStep,
    attachPhoto: attachPhoto
  };
})(window.Gridhouse = window.Gridhouse || {});
