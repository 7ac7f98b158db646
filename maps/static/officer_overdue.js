/* gridhouse /map, the building panel's overdue work (officers), read from the officer's grids'
   overdue lists (GET /api/grids/{code}/overdue) and listed under each house: residents whose
   departure is known (their planned end has passed) but was never deregistered (no longer among
   a house's occupants, who live there today), late (逾期未注销) or still within their 7 days
   (待注销), with the deregistration that ends the residence on its known day; and tenants whose landlord's declaration is overdue, with 房东已申报.
   officer.js draws the panel. */
(function (G) {
  'use strict';

  var page = G.officer;
  var state = page.state;

  /** Read the overdue work of the officer's grids, keep what is in the open building's houses,
   *  and list it under them (a newer read, another building, wins). */
  function load() {
    var grids = G.config.ownGrids || [];
    var building = state.building;
    state.overdue = {};
    if (!G.config.canRegister || !grids.length || !building) { return Promise.resolve(); }
    var houses = {};
    building.houses.forEach(function (h) { houses[h.code] = true; });
    var read = state.overdueRead = {};
    return Promise.all(grids.map(function (code) {
      return G.api('GET', '/api/grids/' + encodeURIComponent(code) + '/overdue');
    })).then(function (answers) {
      if (read !== state.overdueRead) { return; }
      var overdue = {};
      answers.forEach(function (res) {
        if (!res.ok) { return; }  // a grid no longer the officer's: nothing to list from it
        // departures still within their 7 days are listed with the late ones, marked apart
        ['departures', 'pending_departures', 'declarations'].forEach(function (key) {
          (res.data[key] || []).forEach(function (d) {
            if (!houses[d.house_code]) { return; }
            overdue[d.house_code] = overdue[d.house_code] || { departures: [], declarations: [] };
            var list = key === 'declarations' ? 'declarations' : 'departures';
            overdue[d.house_code][list].push(Object.assign({ pending: key === 'pending_departures' }, d));
          });
        });
      });
      state.overdue = overdue;
      render();
    });
  }

  function departureItem(d) {
    return '<li class="gh-overdue-departure" data-residence="' + G.escape(d.residence_uid) + '">' +
      '<span class="gh-name">' + G.escape(d.name) + '</span> ' +
      (d.pending
        ? G.tHtml('departure_to_deregister', 'span', ' class="badge text-bg-secondary"')
        : G.tHtml('departure_not_deregistered', 'span', ' class="badge text-bg-danger"')) + ' ' +
      G.tHtml('moved_out') + ' ' + G.escape(d.moved_out) +
      G.tHtml('deregister', 'button', ' type="button" class="btn btn-sm btn-link text-danger gh-deregister-overdue" data-residence="' +
        G.escape(d.residence_uid) + '" data-moved-out="' + G.escape(d.moved_out) + '"') + '</li>';
  }

  function declarationItem(d) {
    return '<li class="gh-overdue-declaration" data-residence="' + G.escape(d.residence_uid) + '">' +
      '<span class="gh-name">' + G.escape(d.name) + '</span> ' +
      G.tHtml('declaration_overdue', 'span', ' class="badge text-bg-warning"') + ' ' +
      G.tHtml('declaration_due_on') + ' ' + G.escape(d.due_on) +
      G.tHtml('landlord_declared', 'button', ' type="button" class="btn btn-sm btn-link gh-declared-overdue" data-residence="' +
        G.escape(d.residence_uid) + '" data-person="' + G.escape(d.person_uid) + '" data-house="' + G.escape(d.house_code) + '"') + '</li>';
  }

  /** Each house's overdue work, under its occupants. */
  function render() {
    document.querySelectorAll('#gh-houses ul.gh-overdue').forEach(function (list) {
      var work = (state.overdue || {})[list.getAttribute('data-house')] || { departures: [], declarations: [] };
      list.innerHTML = work.departures.map(departureItem).join('') + work.declarations.map(declarationItem).join('');
    });
  }

  /** The landlord has declared the tenant of an overdue declaration (now). */
  function declare(button) {
    button.disabled = true;
    G.api('POST', '/api/residences/' + encodeURIComponent(button.getAttribute('data-residence')) + '/declaration')
      .then(function (res) {
        button.disabled = false;
        if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
        G.toast(G.t('declaration_recorded'), 'ok');
        page.declarationMade(button.getAttribute('data-house'), button.getAttribute('data-person'));
        load();
      });
  }

  /** Deregister a departure whose day is known (the residence's planned end, passed): the
   *  residence ends that day, as the API's deregistration of it does. */
  function deregister(button) {
    button.disabled = true;
    var body = { moved_out: button.getAttribute('data-moved-out') };
    G.api('POST', '/api/residences/' + encodeURIComponent(button.getAttribute('data-residence')) + '/deregister', body)
      .then(function (res) {
        button.disabled = false;
        if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
        G.toast(G.t('saved'), 'ok');
        load();
      });
  }

  G.officerOverdue = { load: load, render: render, deregister: deregister, declare: declare };
})(window.Gridhouse = window.Gridhouse || {});
