/* gridhouse /map: click a building → its houses and occupants; register and deregister; add a
   house; report an event, attach photos to it and move it through its steps (events.js);
   search; floating-resident heat map; locate-me. The server decides what a role may do.
   This file holds the page's state, the map's clicks and the building panel (its houses and
   occupants), shared as G.officer; the panel's forms are in officer_forms.js, search and the
   map's controls in officer_map_tools.js (both loaded after this file, started by start). */
(function (G) {
  'use strict';

  var state = { map: null, data: null, selected: null, building: null, occupants: {}, pageSize: 1000 };

  function $(id) { return document.getElementById(id); }

  function purposeParam() {
    if (!G.config.needsPurpose) { return ''; }
    var value = ($('gh-purpose') && $('gh-purpose').value.trim()) || '';
    return value ? '&purpose=' + encodeURIComponent(value) : null;
  }

  /** `&at=<day>` when the police's date control asks for another day than today ('' else). */
  function atParam() {
    var value = ($('gh-at') && $('gh-at').value) || '';
    return value && value !== G.today() ? '&at=' + encodeURIComponent(value) : '';
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
    state.stash = null;
    // a closed panel shows no event: a dot clicked next (its events read first, events.js
    // openEventsAt) is not taken for the one shown before
    state.event = null;
    state.pendingEvent = null;
  }

  /** Keep the building panel shown (its nodes, so open forms keep what was typed) while an event
   *  opened from it is shown; restoreBuilding puts it back. An event opened from another event
   *  keeps the building kept before. */
  function stashBuilding() {
    if (!state.building) { return; }
    var body = $('gh-panel-body');
    var nodes = document.createDocumentFragment();
    while (body.firstChild) { nodes.appendChild(body.firstChild); }
    state.stash = { building: state.building, selected: state.selected, nodes: nodes };
  }

  /** The building panel kept by stashBuilding, as it was (in the page's language now). */
  function restoreBuilding() {
    var stash = state.stash;
    if (!stash) { return; }
    state.stash = null;
    state.event = null;
    state.pendingEvent = null;
    setTitle(['building']);
    openPanel();
    var body = $('gh-panel-body');
    body.innerHTML = '';
    body.appendChild(stash.nodes);
    state.building = stash.building;
    select(stash.selected);
    G.translate(body);
    wordDates();
    G.officerOverdue.render();  // overdue work read while it was kept
    // occupants asked for while it was kept (a purpose stated meanwhile) are read now
    if (!Object.keys(state.occupants).length && purposeParam() !== null) { loadOccupants(); } else { renderOccupants(); }
  }

  /** The dates inside sentences of the panel, in the page's language. */
  function wordDates() {
    document.querySelectorAll('#gh-panel-body .gh-since').forEach(function (span) {
      span.textContent = G.t('since_date').replace('{date}', span.getAttribute('data-date'));
    });
  }

  // ---- the building panel -------------------------------------------------------------------

  function openBuilding(code, focusHouse) {
    select(code);
    state.event = null;
    state.stash = null;
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
      G.officerOverdue.load();  // departures known but never deregistered (officer_overdue.js)
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
      '<ul class="gh-overdue list-unstyled small" data-house="' + h.code + '"></ul>' +
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
    var base = '/api/buildings/' + encodeURIComponent(b.id) + '/occupants?limit=' + state.pageSize + purpose + atParam();
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
      // the panel closed (state.building null) while a read was under way: no house to ask
      var house = ((state.building || {}).houses || []).filter(function (h) { return h.code === list.getAttribute('data-house'); })[0];
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
            G.tHtml('edit_person', 'button', ' type="button" class="btn btn-sm btn-link gh-edit-person" data-person="' + uid + '"') +
            // only a residence whose landlord's declaration is still owed (a tenant who moved into
            // a let house, not declared yet) offers 房东已申报 (officer_forms.js records it); it
            // was offered on every tenant of a let house, declared or owing none
            (o.declaration_due_on
              ? G.tHtml('landlord_declared', 'button', ' type="button" class="btn btn-sm btn-link gh-declared" data-person="' + uid + '"')
              : '')
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

  /** The landlord's declaration of this person's residence in the house is made: no longer
   *  offered on the occupant (the list is not read again: each read is audited). */
  function declarationMade(houseCode, personUid) {
    (state.occupants[houseCode] || []).forEach(function (o) {
      if (o.uid === personUid) { o.declaration_due_on = null; }
    });
    renderOccupants();
  }

  // ---- start -------------------------------------------------------------------------------

  G.officer = {
    state: state,
    openBuilding: openBuilding,
    openEvent: function (id) { return G.eventPanel.openEvent(id); },
    search: function (query) { return G.officerMapTools.search(query); },
    // for officer_forms.js, officer_map_tools.js and events.js
    select: select,
    setTitle: setTitle,
    openPanel: openPanel,
    closePanel: closePanel,
    restoreBuilding: restoreBuilding,
    purposeParam: purposeParam,
    loadOccupants: loadOccupants,
    renderOccupants: renderOccupants,
    declarationMade: declarationMade,
    houseHead: houseHead,
    houseItem: houseItem,

    start: function (map, config) {
      G.initCommon(config);
      state.map = map;
      state.data = window[config.layers.data];
      G.officerMap = map;
      G.officerMapTools.watchBaseLayer(map, config.basemap);
      G.tiles.watchLoading(state.data);
      state.data.on('click', function (e) {
        var p = (e.layer && e.layer.properties) || {};
        if (p.h3 !== undefined) {
          map.setView(e.latlng, Math.min(map.getZoom() + 2, 18));
        } else if (p.id !== undefined && p.kind) {
          G.eventPanel.openEventsAt(e.latlng, p.id);  // one dot may be several events
        } else if (p.code && p.code.length === 25) {
          openBuilding(p.code);
        } else if (p.code && p.code.length === 15) {
          G.toast(G.t('grid') + ' ' + p.code + (p.name ? ' ' + p.name : '') + ' · ' + G.t(p['class']));
        }
      });
      G.tiles.legend(map);
      G.officerMapTools.locateControl(map);
      G.officerMapTools.zoomHint(map);
      G.eventPanel.init({
        state: state, select: select, setTitle: setTitle, openPanel: openPanel, purposeParam: purposeParam,
        stashBuilding: stashBuilding
      });
      G.officerForms.bindPanel();
      G.officerMapTools.bindSearch();
      // the panels' words are marked and translated in place (open forms keep what was typed);
      // only a date inside a sentence is worded again here
      document.addEventListener('gh:lang', wordDates);
      document.body.setAttribute('data-ready', 'map');
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
