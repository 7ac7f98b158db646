/* gridhouse /map, the map's tools: search by house or building code (its check character checked
   here) or by name / citizen ID number, fly to the building found; the locate-me control; the
   zoom-in hint; the base layer chosen (the offline ground draws the roads). officer.js, loaded
   before this file, opens the building and holds the page's state (G.officer). */
(function (G) {
  'use strict';

  var page = G.officer;  // officer.js: {state, openBuilding, purposeParam}
  var state = page.state;

  function $(id) { return document.getElementById(id); }
  function openBuilding(code, focusHouse) { page.openBuilding(code, focusHouse); }
  function purposeParam() { return page.purposeParam(); }

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

  // ---- search ------------------------------------------------------------------------------

  function flyToBuilding(code, houseCode) {
    return G.api('GET', '/api/buildings/' + encodeURIComponent(code)).then(function (res) {
      if (!res.ok) { G.toast(G.t('not_found'), 'error'); return; }
      var bounds = L.geoJSON(res.data.geometry).getBounds();
      state.map.fitBounds(bounds, { maxZoom: 18 });
      openBuilding(res.data.id, houseCode);
    });
  }

  function showResults(items, more) {
    var box = $('gh-search-results');
    if (!items.length) { box.hidden = true; G.toast(G.t('not_found'), 'error'); return; }
    box.innerHTML = items.map(function (item, i) {
      return '<button type="button" class="list-group-item list-group-item-action" data-i="' + i + '">' +
        G.escape(item.label) + '<div class="small text-muted">' + G.escape(item.detail) + '</div></button>';
    }).join('') + (more ? G.tHtml('search_more', 'div', ' class="list-group-item small text-muted gh-search-more"') : '');
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
      showResults(items, !!res.data.more);
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

  /** The base layer the page starts with (config.basemap) and each one chosen later. */
  function watchBaseLayer(map, basemap) {
    map.getContainer().classList.toggle('gh-offline', basemap === 'offline');
    G.tiles.roadsVisible = basemap === 'offline';
    map.on('baselayerchange', function (e) { onBaseLayerChange(map, e.name); });
  }

  function bindSearch() {
    $('gh-search').addEventListener('submit', function (e) {
      e.preventDefault();
      var q = $('gh-search-input').value.trim();
      if (q) { search(q); }
    });
  }

  G.officerMapTools = {
    search: search,
    watchBaseLayer: watchBaseLayer,
    bindSearch: bindSearch,
    locateControl: locateControl,
    zoomHint: zoomHint
  };
})(window.Gridhouse = window.Gridhouse || {});
