/* gridhouse /map, the building panel's overdue work (officers): residents whose departure is
   known (their planned end has passed) but was never deregistered. They are no longer among a
   house's occupants (who live there today), so the page read them from the officer's grids'
   overdue lists (GET /api/grids/{code}/overdue) and lists them under their house, with the
   deregistration that ends the residence on its known day. officer.js draws the panel. */
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
        (res.data.departures || []).forEach(function (d) {
          if (!houses[d.house_code]) { return; }
          overdue[d.house_code] = overdue[d.house_code] || { departures: [], declarations: [] };
          overdue[d.house_code].departures.push(d);
        });
      });
      state.overdue = overdue;
      render();
    });
  }

  function departureItem(d) {
    return '<li class="gh-overdue-departure" data-residence="' + G.escape(d.residence_uid) + '">' +
      '<span class="gh-name">' + G.escape(d.name) + '</span> ' +
      G.tHtml('departure_not_deregistered', 'span', ' class="badge text-bg-danger"') + ' ' +
      G.tHtml('moved_out') + ' ' + G.escape(d.moved_out) +
      G.tHtml('deregister', 'button', ' type="button" class="btn btn-sm btn-link text-danger gh-deregister-overdue" data-residence="' +
        G.escape(d.residence_uid) + '" data-moved-out="' + G.escape(d.moved_out) + '"') + '</li>';
  }

  /** Each house's overdue work, under its occupants. */
  function render() {
    document.querySelectorAll('#gh-houses ul.gh-overdue').forEach(function (list) {
      var work = (state.overdue || {})[list.getAttribute('data-house')] || { departures: [] };
      list.innerHTML = work.departures.map(departureItem).join('');
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

  G.officerOverdue = { load: load, render: render, deregister: deregister };
})(window.Gridhouse = window.Gridhouse || {});
