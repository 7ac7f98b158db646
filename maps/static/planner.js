/* gridhouse /planner: open or create a draft plan, edit its grids with Leaflet-Geoman, show the
   impact (numbers from /api/plans/{id}/impact when a plan opens; after an edit, from the edit's
   own answer: the rows, polygons, diff and problems that changed), draw problems, publish. */
(function (G) {
  'use strict';

  var state = { map: null, plan: null, grids: null, problems: null, impact: null, busy: false };

  function $(id) { return document.getElementById(id); }

  /** Why a planner's figure is hidden (null), by its kind: a count is hidden when it is 1 to 4
   *  ("<5"); a share or a deviation when it would give such a count away, whatever its own size,
   *  and a sum over grids for either reason ("–", as the dashboard shows a hidden share). */
  var HIDDEN_TITLE = { count: 'suppressed_title', share: 'withheld_title', deviation: 'withheld_title', sum: 'sum_hidden_title' };

  function fmt(value, kind, digits) {
    if (value === null || value === undefined) {
      var title = HIDDEN_TITLE[kind] || 'withheld_title';
      return '<span class="text-muted gh-hidden" data-hidden="' + G.escape(kind) + '" data-i18n-title="' + title +
        '" title="' + G.escape(G.t(title)) + '">' + G.escape(kind === 'count' ? G.t('suppressed') : '–') + '</span>';
    }
    if (typeof value === 'number' && digits !== undefined) { return value.toFixed(digits); }
    return G.escape(value);
  }

  function gridStyle(feature) {
    var changed = feature.properties.is_changed || !feature.properties.code;
    var colours = G.config.style.plan;
    return {
      color: changed ? colours.changed : colours.unchanged, weight: changed ? 3 : 2,
      fillColor: changed ? colours.changedFill : colours.unchangedFill, fillOpacity: 0.15
    };
  }

  // ---- plans list --------------------------------------------------------------------------

  function loadPlans(selectId) {
    return G.api('GET', '/api/plans?limit=100').then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      state.plans = res.data.items;
      renderPlans(selectId ? String(selectId) : null);
    });
  }

  /** The plans list in the page's language (drawn again when it changes), `selectId` chosen
   *  (null: the one chosen stays). */
  function renderPlans(selectId) {
    var select = $('gh-plan-select');
    var chosen = selectId || select.value;
    select.innerHTML = (state.plans || []).map(function (p) {
      return '<option value="' + p.id + '">' + G.escape('#' + p.id + ' ' + p.plan_name + ' (' + G.t('plan_' + p.status) + ')') + '</option>';
    }).join('');
    if (chosen) { select.value = chosen; }
  }

  function createPlan(form) {
    var data = new FormData(form);
    var body = { division_code: data.get('division_code') };
    if (data.get('plan_name').trim()) { body.plan_name = data.get('plan_name').trim(); }
    $('gh-plan-create').disabled = true;
    G.api('POST', '/api/plans', body).then(function (res) {
      $('gh-plan-create').disabled = false;
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      $('gh-new-plan-box').open = false;
      loadPlans(res.data.id).then(function () { openPlan(res.data.id); });
    });
  }

  // ---- one plan ----------------------------------------------------------------------------

  function openPlan(id) {
    return G.api('GET', '/api/plans/' + id).then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); return; }
      var first = !state.plan || state.plan.id !== res.data.id;
      state.plan = res.data;
      $('gh-plan-view').hidden = false;
      $('gh-plan-title').textContent = '#' + res.data.id + ' ' + res.data.plan_name;
      $('gh-plan-status').textContent = G.t('plan_' + res.data.status);
      $('gh-plan-status').setAttribute('data-status', res.data.status);
      drawGrids(res.data.grids, first);
      history.replaceState(null, '', '/planner?plan=' + res.data.id);
      return loadImpact();
    });
  }

  function drawGrids(collection, fit) {
    var editing = state.map.pm && state.map.pm.globalEditModeEnabled();
    if (editing) { state.map.pm.disableGlobalEditMode(); }
    if (state.grids) { state.grids.remove(); }
    var editable = state.plan.status === 'draft';
    state.grids = L.geoJSON(collection, {
      style: gridStyle,
      pmIgnore: !editable,
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        layer.bindTooltip(G.escape((p.code || ('#' + p.id)) + (p.name ? ' ' + p.name : '')), { sticky: true });
        layer.on('pm:edit', function () { saveGrid(p.id, layer); });
      }
    }).addTo(state.map);
    if (fit && collection.features.length) { state.map.fitBounds(state.grids.getBounds()); }
    if (editing && editable) { state.map.pm.enableGlobalEditMode(); }
    // a published or discarded plan is read only: no drawing tools (they drew, then a 409)
    document.body.classList.toggle('gh-plan-readonly', !editable);
    if (!editable && state.map.pm) {
      state.map.pm.disableDraw();
      if (state.map.pm.globalRemovalModeEnabled()) { state.map.pm.disableGlobalRemovalMode(); }
      if (state.map.pm.globalCutModeEnabled && state.map.pm.globalCutModeEnabled()) { state.map.pm.disableGlobalCutMode(); }
    }
  }

  // 7 decimals, as the server sends the plan's grids (toGeoJSON() rounds to 6, ~0.1 m: a grid
  // sent back unchanged reached outside its community); the server snaps them back exactly
  var GEOJSON_DECIMALS = 7;

  function saveGrid(gridId, layer) {
    var geometry = layer.toGeoJSON(GEOJSON_DECIMALS).geometry;
    busy(true);
    G.api('PUT', '/api/plans/' + state.plan.id + '/grids/' + gridId, { geometry: geometry, adjust_neighbours: true })
      .then(afterEdit).finally(function () { busy(false); });
  }

  function addGrid(layer) {
    var geometry = layer.toGeoJSON(GEOJSON_DECIMALS).geometry;
    layer.remove();
    if (!state.plan) { return; }
    busy(true);
    G.api('POST', '/api/plans/' + state.plan.id + '/grids', { geometry: geometry, adjust_neighbours: true })
      .then(afterEdit).finally(function () { busy(false); });
  }

  function removeGrid(layer) {
    var p = layer.feature && layer.feature.properties;
    if (!p || !state.plan) { return; }
    busy(true);
    G.api('DELETE', '/api/plans/' + state.plan.id + '/grids/' + p.id).then(function (res) {
      if (!res.ok) { G.toast(G.errorText(res.data, res.status), 'error'); }
      return openPlan(state.plan.id);
    }).finally(function () { busy(false); });
  }

  // An edit answers with what changed (EditImpact): replace those rows and polygons by id, drop
  // the removed grids, take the plan's diff and problems. A refused edit reloads the plan.
  function afterEdit(res) {
    if (!res.ok) {
      G.toast(G.errorText(res.data, res.status), 'error');
      return openPlan(state.plan.id);
    }
    var edit = res.data;
    var gone = {};
    edit.removed.concat(edit.ids).forEach(function (id) { gone[id] = true; });
    var features = state.plan.grids.features.filter(function (f) { return !gone[f.id]; })
      .concat(edit.features.features);
    features.sort(function (a, b) { return a.id - b.id; });
    state.plan.grids = { type: 'FeatureCollection', features: features };
    drawGrids(state.plan.grids, false);
    var rows = {};
    state.impact.grids.forEach(function (g) { rows[g.id] = g; });
    edit.removed.forEach(function (id) { delete rows[id]; });
    edit.grids.forEach(function (g) { rows[g.id] = g; });
    var grids = Object.keys(rows).map(Number).sort(function (a, b) { return a - b; })
      .map(function (id) { return rows[id]; });
    ['diff', 'problems', 'errors', 'warnings', 'publishable', 'notes'].forEach(function (key) {
      state.impact[key] = edit[key];
    });
    state.impact.grids = grids;
    renderImpact(state.impact);
    document.body.setAttribute('data-impact-version', String(Date.now()));
    return null;
  }

  function busy(on) {
    state.busy = on;
    document.body.setAttribute('data-busy', on ? 'true' : 'false');
  }

  // ---- impact ------------------------------------------------------------------------------

  function loadImpact() {
    return G.api('GET', '/api/plans/' + state.plan.id + '/impact').then(function (res) {
      if (!res.ok) { $('gh-impact').textContent = G.errorText(res.data, res.status); return; }
      state.impact = res.data;
      renderImpact(res.data);
      document.body.setAttribute('data-impact-version', String(Date.now()));
    });
  }

  function renderImpact(impact) {
    var head = ['grid', 'households', 'residents', 'floating_share', 'deviation', 'compactness', 'predicted_class', 'officers_needed'];
    var rows = impact.grids.map(function (g) {
      return '<tr class="' + (g.status !== 'unchanged' ? 'gh-changed' : '') + '" data-grid="' + G.escape(g.ref) + '">' +
        '<td title="' + G.escape(g.code || g.ref) + '">' + G.escape(g.code ? g.code.slice(9, 12) + '-' + g.code.slice(12) : g.ref) + '</td>' +
        '<td class="gh-households">' + fmt(g.households, 'count') + '</td>' +
        '<td class="gh-residents">' + fmt(g.resident_count, 'count') + '</td>' +
        '<td class="gh-floating-share">' + (g.floating_share === null ? fmt(null, 'share')
          : (100 * g.floating_share).toFixed(0) + '%') + '</td>' +
        '<td class="gh-deviation">' + fmt(g.deviation, 'deviation') + '</td>' +
        '<td>' + fmt(g.polsby_popper, 'ratio', 2) + '</td>' +
        '<td>' + G.escape(G.t(g.predicted_class)) + '</td>' +
        '<td>' + fmt(g.officers_needed, 'count') + '</td></tr>';
    }).join('');
    // the impact's notes (what its figures leave out), in Chinese when the table knows them
    var notes = (impact.notes || []).map(function (note) {
      return '<li>' + G.escape((G.lang === 'zh' && G.translateError(note)) || note) + '</li>';
    }).join('');
    $('gh-impact').innerHTML = '<table class="table table-sm gh-impact gh-table"><thead><tr>' +
      head.map(function (k) { return '<th>' + G.escape(G.t(k)) + '</th>'; }).join('') +
      '</tr></thead><tbody>' + rows + '</tbody></table>' +
      (notes ? '<ul class="gh-impact-notes small text-muted" id="gh-impact-notes">' + notes + '</ul>' : '');
    var d = impact.diff;
    $('gh-diff').innerHTML = [
      '+' + d.added.length + ' / ~' + d.changed.length + ' / −' + d.retired.length + ' ' + G.escape(G.t('grids')),
      // sums over the grids: hidden when they would give a grid's hidden count away
      G.escape(G.t('households')) + ': ' + fmt(d.households_moved, 'sum'),
      G.escape(G.t('residents')) + ': ' + fmt(d.resident_count_moved, 'sum')
    ].join(' · ');
    var features = (impact.problems && impact.problems.features) || [];
    $('gh-problems').innerHTML = features.length ? features.map(function (f) {
      var p = f.properties;
      var message = (G.lang === 'zh' && G.translateError(p.message)) || p.message;
      var label = G.t('severity_' + p.severity) + (G.lang === 'zh' ? '：' : ': ');
      return '<li class="' + (p.severity === 'error' ? 'gh-bad' : '') + '">' + G.escape(label + message) + '</li>';
    }).join('') : '<li class="gh-ok">' + G.escape(G.t('no_problems')) + '</li>';
    if (state.problems) { state.problems.remove(); }
    state.problems = L.geoJSON(impact.problems, {
      pmIgnore: true, interactive: false,
      style: function (f) { return { color: f.properties.severity === 'error' ? '#d50000' : '#ff9800', weight: 3, fillOpacity: 0.35 }; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 6 }); }
    }).addTo(state.map);
    $('gh-publish-button').disabled = !(impact.publishable && state.plan.status === 'draft');
  }

  // ---- publish -----------------------------------------------------------------------------

  function publish(form) {
    var effective = new FormData(form).get('effective_date');
    $('gh-publish-button').disabled = true;
    G.api('POST', '/api/plans/' + state.plan.id + '/publish', { effective_date: effective }).then(function (res) {
      if (!res.ok) {
        // worded again when the language changes (G.showError), as is "published" below
        $('gh-publish-result').innerHTML = '<span class="gh-bad"></span>';
        G.showError($('gh-publish-result').firstChild, res.data, res.status);
        $('gh-publish-button').disabled = false;
        return;
      }
      $('gh-publish-result').innerHTML = '<span class="gh-ok" id="gh-published">' + G.tHtml('published') + ' ' +
        G.escape(res.data.effective_date) + '</span> +' + res.data.added.length + ' ~' + res.data.changed.length + ' −' + res.data.retired.length;
      loadPlans(state.plan.id);
      openPlan(state.plan.id);
    });
  }

  G.planner = {
    state: state,
    openPlan: openPlan,

    start: function (map, config) {
      G.initCommon(config);
      state.map = map;
      G.plannerMap = map;
      document.body.classList.add('gh-planner');
      map.invalidateSize();
      map.getContainer().classList.toggle('gh-offline', config.basemap === 'offline');
      G.tiles.roadsVisible = config.basemap === 'offline';
      G.tiles.planMode = true;
      G.tiles.watchLoading(window[config.layers.background]);
      if (map.pm) {
        map.pm.setGlobalOptions({ allowSelfIntersection: false, snappable: true });
        map.pm.setLang(G.lang === 'zh' ? 'zh' : 'en');
        document.addEventListener('gh:lang', function () { map.pm.setLang(G.lang === 'zh' ? 'zh' : 'en'); });
      }
      map.on('pm:create', function (e) { addGrid(e.layer); });
      map.on('pm:remove', function (e) { removeGrid(e.layer); });
      $('gh-new-plan').addEventListener('submit', function (e) { e.preventDefault(); createPlan(e.target); });
      $('gh-plan-open').addEventListener('click', function () {
        var id = $('gh-plan-select').value;
        if (id) { openPlan(id); }
      });
      $('gh-publish').addEventListener('submit', function (e) { e.preventDefault(); publish(e.target); });
      document.addEventListener('gh:lang', function () {
        if (state.impact) { renderImpact(state.impact); }
        if (state.plan) { $('gh-plan-status').textContent = G.t('plan_' + state.plan.status); }
        renderPlans(null);
      });
      loadPlans(config.planId).then(function () {
        if (config.planId) { return openPlan(config.planId); }
        return null;
      }).finally(function () { document.body.setAttribute('data-ready', 'planner'); });
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
