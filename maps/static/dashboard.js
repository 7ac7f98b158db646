/* gridhouse /dashboard: Chart.js charts of the figures the page carries (no further requests):
   residents, class mix, houses, quality, open events by kind with the overdue ones, closure rate
   per grid, overdue work. */
(function (G) {
  'use strict';

  var charts = [];
  var hidden = {};  // canvas id → a figure hidden from a planner was left out of its chart

  /** A grid's figure as chart `canvas` draws it: a hidden one (null: a planner's count of 1 to 4,
   *  or a figure that would give one away; "<5" or "–" in the table) stays null, so the chart
   *  leaves it out and says so under it (it was drawn as 0); absent (undefined: no event of a
   *  kind) is 0. */
  function value(v, canvas) {
    if (v === null) { hidden[canvas] = true; return null; }
    return v === undefined ? 0 : v;
  }

  /** Those not floating: hidden when either figure is. */
  function hukou(g) {
    var residents = value(g.residents, 'gh-chart-residents');
    var floating = value(g.floating, 'gh-chart-residents');
    return residents === null || floating === null ? null : Math.max(residents - floating, 0);
  }

  /** Under each chart that left a hidden figure out, the note saying so. */
  function noteHidden() {
    document.querySelectorAll('.gh-chart-hidden').forEach(function (note) {
      note.hidden = !hidden[note.getAttribute('data-chart')];
    });
  }

  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    hidden = {};
    var data = G.config.charts;
    var s = G.config.style;
    var colours = s.chartColours;
    var labels = data.grids.map(function (g) { return g.label; });
    // a new object each time: Chart.js writes its defaults into the options it is given
    var options = function (extra) { return Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, extra || {}); };

    charts.push(new Chart(document.getElementById('gh-chart-residents'), {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          { label: G.t('floating'), data: data.grids.map(function (g) { return value(g.floating, 'gh-chart-residents'); }), backgroundColor: colours[1], stack: 'r' },
          { label: G.t('hukou'), data: data.grids.map(hukou), backgroundColor: colours[0], stack: 'r' }
        ]
      },
      options: options()
    }));

    var order = data.classOrder.filter(function (k) { return data.classMix[k]; });
    charts.push(new Chart(document.getElementById('gh-chart-classes'), {
      type: 'doughnut',
      data: {
        labels: order.map(function (k) { return G.t(k); }),
        datasets: [{ data: order.map(function (k) { return data.classMix[k]; }), backgroundColor: order.map(function (k) { return s.gridClassColours[k]; }) }]
      },
      options: options()
    }));

    charts.push(new Chart(document.getElementById('gh-chart-houses'), {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          { label: G.t('houses'), data: data.grids.map(function (g) { return value(g.houses, 'gh-chart-houses'); }), backgroundColor: colours[0] },
          { label: G.t('rentals'), data: data.grids.map(function (g) { return value(g.rented, 'gh-chart-houses'); }), backgroundColor: colours[1] }
        ]
      },
      options: options()
    }));

    var quality = data.quality;
    charts.push(new Chart(document.getElementById('gh-chart-quality'), {
      type: 'bar',
      data: {
        labels: quality.map(function (q) { return G.t(q.key); }),
        datasets: [
          {
            label: '%',
            data: quality.map(function (q) { return q.value === null ? null : Math.round(1000 * q.value) / 10; }),
            backgroundColor: quality.map(function (q) { return q.meets === false ? s.qualityBad : s.qualityOk; })
          },
          {
            label: G.t('threshold'), type: 'line', showLine: false, pointStyle: 'line', pointRadius: 14,
            borderWidth: 3, borderColor: '#222', data: quality.map(function (q) { return 100 * q.threshold; })
          }
        ]
      },
      options: options({ indexAxis: 'y', scales: { x: { min: 0, max: 100 } } })
    }));

    // events: open ones by kind stacked per grid, overdue ones as points on top
    var kinds = data.eventKinds || [];
    charts.push(new Chart(document.getElementById('gh-chart-events'), {
      type: 'bar',
      data: {
        labels: labels,
        datasets: kinds.map(function (kind, i) {
          return {
            label: G.t(kind), stack: 'open', backgroundColor: colours[i % colours.length],
            data: data.grids.map(function (g) {
              return g.openByKind === null ? value(null, 'gh-chart-events') : value((g.openByKind || {})[kind], 'gh-chart-events');
            })
          };
        }).concat([{
          label: G.t('overdue_events'), type: 'line', showLine: false, pointStyle: 'triangle', pointRadius: 6,
          borderColor: s.qualityBad, backgroundColor: s.qualityBad,
          data: data.grids.map(function (g) { return value(g.overdueEvents, 'gh-chart-events'); })
        }])
      },
      options: options({ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } })
    }));

    charts.push(new Chart(document.getElementById('gh-chart-closure'), {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [{
          label: G.t('closure_rate') + ' %', backgroundColor: colours[3],
          data: data.grids.map(function (g) { return g.closureRate === null || g.closureRate === undefined ? null : Math.round(1000 * g.closureRate) / 10; })
        }]
      },
      options: options({ scales: { y: { min: 0, max: 100 } } })
    }));

    var overdue = document.getElementById('gh-chart-overdue');
    if (overdue && data.hasOverdue) {
      charts.push(new Chart(overdue, {
        type: 'bar',
        data: {
          labels: labels,
          datasets: [
            { label: G.t('late_declarations'), data: data.grids.map(function (g) { return value(g.declarations, 'gh-chart-overdue'); }), backgroundColor: colours[2] },
            { label: G.t('late_departures'), data: data.grids.map(function (g) { return value(g.departures, 'gh-chart-overdue'); }), backgroundColor: colours[4] }
          ]
        },
        options: options()
      }));
    }
    noteHidden();
  }

  G.dashboard = {
    start: function (_map, config) {
      G.initCommon(config);
      draw();
      document.addEventListener('gh:lang', draw);
      document.body.setAttribute('data-ready', 'dashboard');
    }
  };
})(window.Gridhouse = window.Gridhouse || {});
