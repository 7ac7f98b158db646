/* gridhouse pages: how vector tile layers are drawn (colours come from maps/style.py). */
(function (G) {
  'use strict';

  // leaflet.vectorgrid 1.3.0 calls L.DomEvent.fakeStop, which Leaflet 1.9 removed; the pages use
  // the SVG renderer, and this restores the old function for any canvas layer (Leaflet 1.7's).
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }

  // leaflet.vectorgrid draws a tile it was refused (401: the session ended) as an empty one and
  // says nothing, so a map moved after the session ended went blank silently. Its fetch of a
  // tile (a synchronous call inside _getVectorTilePromise) is watched here: a 401 asks for the
  // session as an API call does (session.js), and the layer is drawn again once it is back.
  var waiting = [];

  function tileRefused(layer) {
    if (!G.session || waiting.indexOf(layer) >= 0) { return; }
    waiting.push(layer);
    G.session.ended().then(function () {
      waiting.splice(waiting.indexOf(layer), 1);
      layer.redraw();
    });
  }

  if (window.L && L.VectorGrid && L.VectorGrid.Protobuf) {
    var getTile = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
    L.VectorGrid.Protobuf.prototype._getVectorTilePromise = function (coords) {
      var layer = this;
      var fetchTile = window.fetch;
      window.fetch = function (url, options) {
        return fetchTile.call(window, url, options).then(function (response) {
          if (response.status === 401) { tileRefused(layer); }
          return response;
        });
      };
      try {
        return getTile.call(this, coords);
      } finally {
        window.fetch = fetchTile;
      }
    };
  }

  var FALLBACK = {
    gridClassColours: { reinforced: '#d7301f', key: '#fc8d59', regular: '#4393c3', unclassified: '#8c8c8c' },
    building: { colour: '#5b5f66', fill: '#c9ccd1' },
    buildingSelected: '#ffcc00',
    roads: { default: '#ffffff' },
    roadCasing: '#b9b3a7',
    heatRamp: ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'],
    countRamp: ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c']
  };

  function style() { return (G.config && G.config.style) || FALLBACK; }

  /** A colour of `ramp` for `count` against ascending `breaks` (one fewer than colours). */
  function ramp(colours, breaks, count) {
    var i = 0;
    while (i < breaks.length && count >= breaks[i]) { i += 1; }
    return colours[Math.min(i, colours.length - 1)];
  }

  var ROAD_WIDTH = { motorway: 4, trunk: 4, primary: 3.5, secondary: 3, tertiary: 2.5 };

  G.tiles = {
    roadsVisible: true,
    planMode: false,

    /** The zoom of a 512-pixel tile's URL: one less than the map's (256-pixel tiles' scheme). */
    tileZoom: function (data) { return Math.max(data.z - 1, 0); },

    featureId: function (feature) {
      var p = feature.properties || {};
      return p.code || p.h3 || (p.id !== undefined ? 'event:' + p.id : undefined);
    },

    styles: function () {
      return {
        roads: function (p, zoom) {
          if (!G.tiles.roadsVisible) { return []; }
          var s = style();
          var kind = String(p.highway || 'road').replace('_link', '');
          var width = (ROAD_WIDTH[kind] || 1.5) * (zoom >= 16 ? 1.6 : 1);
          return [
            { color: s.roadCasing, weight: width + 1.5, opacity: 1 },
            { color: s.roads[kind] || s.roads['default'] || '#ffffff', weight: width, opacity: 1 }
          ];
        },
        grids: function (p) {
          var colour = style().gridClassColours[p['class']] || '#8c8c8c';
          var own = p.own === true || p.own === 'true';
          return {
            color: colour, weight: own ? 3 : 1.5, opacity: 0.95, dashArray: own ? null : '4 3',
            fill: true, fillColor: colour, fillOpacity: G.tiles.planMode ? 0.04 : 0.1
          };
        },
        buildings: function () {
          var s = style();
          return { color: s.building.colour, weight: 1, opacity: 0.9, fill: true, fillColor: s.building.fill, fillOpacity: 0.8 };
        },
        buildings_h3: function (p) {
          return {
            color: '#ffffff', weight: 0.5, fill: true, fillOpacity: 0.65,
            fillColor: ramp(style().countRamp, [10, 50, 200, 1000], Number(p.count) || 0)
          };
        },
        grids_h3: function (p) {
          return {
            color: '#ffffff', weight: 0.5, fill: true, fillOpacity: 0.5,
            fillColor: ramp(style().countRamp, [2, 5, 20, 50], Number(p.count) || 0)
          };
        },
        events: function (p) {
          var s = style();
          var late = p.overdue === true || p.overdue === 'true';
          return {
            // over 10 px: Leaflet takes a smaller circle for a marker and asks the tile's point
            // for a latlng it has not, so a click threw instead of opening the event
            radius: 11, color: '#ffffff', weight: 2, fill: true, fillOpacity: 0.95,
            fillColor: late ? (s.eventOverdue || '#d7301f') : (s.eventOpen || '#f59f00')
          };
        },
        events_h3: function (p) {
          return {
            color: '#ffffff', weight: 0.5, fill: true, fillOpacity: 0.5,
            fillColor: ramp(style().heatRamp, [2, 5, 20, 50], Number(p.count) || 0)
          };
        },
        floating_h3: function (p) {
          return {
            color: '#ffffff', weight: 0.5, fill: true, fillOpacity: 0.5,
            fillColor: ramp(style().heatRamp, [5, 20, 100, 500], Number(p.count) || 0)
          };
        }
      };
    },

    /** Mark the page while a tile layer loads (``body[data-tiles=loading|loaded]``). */
    watchLoading: function (layer) {
      document.body.setAttribute('data-tiles', layer.isLoading && layer.isLoading() ? 'loading' : 'loaded');
      layer.on('loading', function () { document.body.setAttribute('data-tiles', 'loading'); });
      layer.on('load', function () { document.body.setAttribute('data-tiles', 'loaded'); });
    },

    /** The style of a selected building. */
    selected: function () {
      return { color: '#000000', weight: 2.5, fill: true, fillColor: style().buildingSelected, fillOpacity: 0.9 };
    },

    /** A map control listing the grid classes' colours. */
    legend: function (map) {
      var Legend = L.Control.extend({
        options: { position: 'bottomleft' },
        onAdd: function () {
          var box = L.DomUtil.create('div', 'gh-legend leaflet-bar');
          box.id = 'gh-legend';
          G.tiles.fillLegend(box);
          L.DomEvent.disableClickPropagation(box);
          return box;
        }
      });
      var control = new Legend();
      control.addTo(map);
      document.addEventListener('gh:lang', function () {
        G.tiles.fillLegend(document.getElementById('gh-legend'));
      });
      return control;
    },

    fillLegend: function (box) {
      if (!box) { return; }
      var s = style();
      var order = s.gridClassOrder || ['reinforced', 'key', 'regular', 'unclassified'];
      var rows = order.map(function (name) {
        return '<div><i style="background:' + s.gridClassColours[name] + '"></i>' + G.escape(G.t(name)) + '</div>';
      });
      rows.push('<div><i class="gh-legend-own"></i>' + G.escape(G.t('own_grid')) + '</div>');
      box.innerHTML = '<strong>' + G.escape(G.t('legend')) + '</strong>' + rows.join('');
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
