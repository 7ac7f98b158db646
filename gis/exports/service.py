"""``export``: a layer the caller may read, written to a file in the format and CRS asked for.

==========  ====================  =================================================
layer       who may export        rows
==========  ====================  =================================================
buildings   every role but the    live footprints: officers and police their scope,
            auditor               planners and admins all (no personal data)
houses      officer, police,      active houses in scope, at their building's point
            admin
grids       every role but the    grid versions valid today (outlines)
            auditor
divisions   every role but the    divisions that have a boundary
            auditor
people      admin                 residents today, ID number and phone in clear
==========  ====================  =================================================

Every export writes one audit row (who, what layer, how many rows, where to) in the same
transaction as the read. Rows are streamed from a server-side cursor and written
:data:`CHUNK_ROWS` at a time, to a file beside the destination that is renamed into place at the
end, so a failure leaves no half-written file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.codes import parse_grid_code
from gis.crs import STORAGE_SRID, WGS84_SRID, SourceCrs, gcj02_to_bd09, wgs84_to_gcj02
from gis.divisions.service import known_division
from gis.errors import InvalidInput, NotFound
from gis.exports import queries
from gis.exports.formats import ExportFormat, ExportLayer
from gis.exports.queries import Filters
from gis.people.crypto import PeopleCipher, SealedField
from gis.private_files import check_new_file, make_private
from gis.users.models import Role

XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
SNAP_GRID = 1e-9
"""What a geometry in degrees left invalid by writing it is snapped to: 1e-9 of a degree
(0.1 mm), the 9 decimals a CSV or GeoJSON file keeps."""
SNAP_GRID_PROJECTED = 1e-4
"""The same 0.1 mm in a projected CRS (metres; feet come out a little finer). Snapping metre
coordinates of ~2,500,000 to 1e-9 asks for more digits than a double holds, and GEOS failed
("side location conflict") on 5 of the demo's grids in EPSG:4547."""
CRUMB_SHARE = 1e-6
"""A part of a snapped geometry under this share of its area is a crumb the snapping pinched
off (1.5e-5 m² of a 5,938 m² grid), dropped."""
CHUNK_ROWS = 50_000  # rows read and written at a time: memory stays flat on a province

__all__ = ["ExportFormat", "ExportLayer", "ExportResult", "export_layer"]


@dataclass(frozen=True)
class ExportResult:
    layer: ExportLayer
    path: Path
    rows: int
    crs_label: str


def export_layer(
    session: Session,
    *,
    layer: ExportLayer,
    out: Path,
    file_format: ExportFormat,
    scope: Scope,
    actor: Actor,
    crs: SourceCrs | None = None,
    grid_code: str | None = None,
    division_code: str | None = None,
    today: date,
    cipher: PeopleCipher | None = None,
) -> ExportResult:
    """Write ``layer`` as the caller may read it to ``out`` and audit the export.

    ``crs`` defaults to EPSG:4326 for GeoJSON (RFC 7946) and EPSG:4490 (storage) otherwise;
    GCJ02 and BD09 are offered for Chinese web maps.
    """
    check_new_file(out)
    if layer is ExportLayer.PEOPLE and cipher is None:
        raise ValueError("exporting people needs the people cipher")
    target = crs or SourceCrs(
        epsg=WGS84_SRID if file_format is ExportFormat.GEOJSON else STORAGE_SRID
    )
    if target.is_offset and file_format in (ExportFormat.GEOJSON, ExportFormat.GPKG):
        # GCJ-02 and BD-09 have no EPSG code: the file would label its coordinates WGS 84, and
        # any reader (a re-import too) would place every building some 500 m off
        raise InvalidInput(
            f"{target.label} has no EPSG code, so a {file_format.value} file would call its "
            "coordinates WGS 84: export GCJ02 or BD09 as CSV or XLSX (or this file in EPSG:4326)",
            field="--crs",
        )
    filters = Filters(
        grid_code=parse_grid_code(grid_code, field="--grid") if grid_code else None,
        # an unknown division is a 404, not "nothing in your scope"
        division_code=known_division(session, division_code, field="--division")
        if division_code
        else None,
        on=today,
    )
    srid = WGS84_SRID if target.is_offset else (target.epsg or STORAGE_SRID)
    statement = _statement(layer, scope=scope, filters=filters, srid=srid)
    dtypes = _dtypes(statement)
    rows = 0
    with _Destination(out, layer=layer, file_format=file_format, target=target) as destination:
        result = session.execute(statement.execution_options(yield_per=CHUNK_ROWS))
        columns = list(result.keys())
        for chunk in result.partitions():
            rows += len(chunk)
            if file_format is ExportFormat.XLSX and rows > XLSX_MAX_ROWS:
                raise InvalidInput(
                    f"more than {XLSX_MAX_ROWS:,} rows do not fit in a worksheet: use csv or "
                    "gpkg, or narrow with --grid / --division",
                    field="--format",
                )
            frame = _frame(columns, chunk, dtypes=dtypes, target=target,
                           cipher=cipher if layer is ExportLayer.PEOPLE else None,
                           exact=file_format in (ExportFormat.GPKG, ExportFormat.XLSX))  # fmt: skip
            destination.write(frame)
        if rows == 0:
            narrowed = "--grid" if grid_code else "--division" if division_code else None
            raise NotFound(f"no {layer} to export in your scope with these filters", field=narrowed)
        # before the file is in place: an export the log cannot record leaves no file
        record_audit(
            session,
            actor=actor,
            action=f"export.{layer}",
            target_codes=[code for code in (grid_code, division_code) if code],
            purpose=f"export to {out.name} ({file_format}, {target.label})",
            row_count=rows,
        )
    return ExportResult(layer=layer, path=out, rows=rows, crs_label=target.label)


def _statement(layer: ExportLayer, *, scope: Scope, filters: Filters, srid: int) -> Any:
    """The layer's select, after checking the caller's role may export it (Forbidden if not)."""
    if layer is ExportLayer.PEOPLE:
        scope.require_role(Role.ADMIN)
        return queries.residents_select(filters=filters, srid=srid)
    if layer is ExportLayer.HOUSES:
        scope.require_personal()
        return queries.houses_select(scope=scope, filters=filters, srid=srid)
    scope.require_aggregates()
    if layer is ExportLayer.BUILDINGS:
        return queries.buildings_select(scope=scope, filters=filters, srid=srid)
    if layer is ExportLayer.GRIDS:
        return queries.grids_select(filters=filters, srid=srid)
    return queries.divisions_select(filters=filters, srid=srid)


def _dtypes(statement: Any) -> dict[str, str]:
    """Column types fixed from the query (not guessed per chunk: a chunk whose heights are all
    NULL must not make the file's height column text)."""
    dtypes: dict[str, str] = {}
    for column in statement.selected_columns:
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            continue
        if python_type is bool:
            dtypes[column.key] = "boolean"
        elif python_type is int:
            dtypes[column.key] = "Int64"
        elif python_type is float:
            dtypes[column.key] = "float64"
    return dtypes


def _frame(
    columns: list[str],
    rows: Sequence[Any],
    *,
    dtypes: dict[str, str],
    target: SourceCrs,
    cipher: PeopleCipher | None,
    exact: bool,
) -> gpd.GeoDataFrame:
    """A chunk of rows as a frame in the target CRS; ``exact``: written with every bit of its
    coordinates (a GeoPackage, the points of a workbook), so kept valid here."""
    data = pd.DataFrame.from_records(list(rows), columns=columns)
    geoms = np.asarray(shapely.from_wkb(data.pop("wkb").map(bytes)))
    if target.is_offset:
        geoms = np.asarray(shapely.transform(geoms, _offset(target)))
    if exact:  # a CSV or GeoJSON writer rounds, and checks what it writes (_rounded)
        geoms = _valid_as_written(geoms, geoms.copy(), snap=_snap_grid(target))
    for name in data.columns:
        if name in dtypes:
            data[name] = data[name].astype(dtypes[name])
        elif data[name].dtype == object:  # enums and dates as text (ISO 8601 for dates)
            data[name] = data[name].map(_text)
    if cipher is not None:
        data.insert(
            1,
            "id_number",
            [_open(cipher, v, SealedField.ID_NUMBER) for v in data.pop("id_number_enc")],
        )
        data.insert(
            2, "phone", [_open(cipher, v, SealedField.PHONE) for v in data.pop("phone_enc")]
        )
    crs = "EPSG:4326" if target.is_offset else f"EPSG:{target.epsg}"
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def _snap_grid(target: SourceCrs) -> float:
    """The snap size of :func:`_valid_as_written` in the units of ``target``'s coordinates."""
    return SNAP_GRID if target.is_geographic else SNAP_GRID_PROJECTED


def _valid_as_written(geoms: Any, written: Any, *, snap: float) -> Any:
    """``written`` (``geoms`` as the file will hold them) with any it leaves invalid replaced by
    the original snapped to ``snap`` (:data:`SNAP_GRID` in degrees, :data:`SNAP_GRID_PROJECTED`
    in metres) with a valid result: a GIS client, or an import of the file, refused it. A valid
    polygon of the database turns self-intersecting by a last-bit difference of 1e-14° after a
    change of CRS, or by the 9 decimals of a CSV or GeoJSON file (5 of the demo's 834 grids)."""
    for index in np.flatnonzero(~shapely.is_valid(written)):
        written[index] = _snapped(geoms[index], snap)
    return written


def _snapped(geom: Any, snap: float) -> Any:
    """``geom`` snapped to ``snap`` and valid.

    Snapping an invalid polygon can fail (GEOS: "side location conflict"): then it is repaired
    instead. Either can pinch off crumbs of a few mm² (:data:`CRUMB_SHARE` of the whole):
    they are dropped, so that one polygon stays one (a grid import refuses several parts)."""
    try:
        result = shapely.set_precision(geom, snap)
    except shapely.errors.GEOSException:
        result = shapely.make_valid(geom)
    parts = shapely.get_parts(result)
    if len(parts) > 1 or shapely.get_type_id(result) == shapely.GeometryType.GEOMETRYCOLLECTION:
        areas = shapely.area(parts)
        kept = parts[areas > CRUMB_SHARE * areas.sum()]
        result = kept[0] if len(kept) == 1 else shapely.multipolygons(kept)
    return result


def _rounded(geoms: Any, *, snap: float = SNAP_GRID) -> Any:
    """The geometries with coordinates rounded to 9 decimals, as a CSV or GeoJSON file keeps
    them, valid (:func:`_valid_as_written`, snapped to ``snap`` in the file's units)."""
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, 9))
    return _valid_as_written(geoms, rounded, snap=snap)


def _open(cipher: PeopleCipher, blob: Any, field: SealedField) -> str | None:
    return None if blob is None else cipher.open(bytes(blob), field=field)


def _offset(target: SourceCrs) -> Callable[[Any], Any]:
    """WGS 84 → GCJ-02 (→ BD-09) on an (n, 2) coordinate array."""

    def convert(coords: Any) -> Any:
        lon, lat = wgs84_to_gcj02(coords[:, 0].copy(), coords[:, 1].copy())
        if target.offset == "BD09":
            lon, lat = gcj02_to_bd09(lon, lat)
        return np.column_stack([lon, lat])

    return convert


def _text(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Destination:
    """Chunks appended to a temporary file beside ``out``, renamed into place on success and
    deleted on failure: a failed export leaves no file."""

    def __init__(
        self, out: Path, *, layer: ExportLayer, file_format: ExportFormat, target: SourceCrs
    ) -> None:
        self.out, self.layer, self.file_format, self.target = out, layer, file_format, target
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix,
                                                 dir=out.parent)  # fmt: skip
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise InvalidInput(
                f"cannot create a file in {out.parent} ({reason})", field="--out"
            ) from None
        os.close(handle)
        self.partial = Path(temporary)
        self.partial.unlink()  # GDAL creates the file itself
        self.is_first = True
        self.sheet: list[pd.DataFrame] = []  # XLSX is written at the end, in one go

    def __enter__(self) -> _Destination:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                if self.sheet:
                    self._write_workbook()
                if self.layer is ExportLayer.PEOPLE:
                    make_private(self.partial)  # names, ID numbers, phones: the owner only
                self.partial.replace(self.out)
        finally:
            self.partial.unlink(missing_ok=True)

    def write(self, frame: gpd.GeoDataFrame) -> None:
        append = not self.is_first
        self.is_first = False
        if self.file_format is ExportFormat.GPKG:
            pyogrio.write_dataframe(frame, self.partial, layer=str(self.layer), driver="GPKG",
                                    append=append)  # fmt: skip
        elif self.file_format is ExportFormat.GEOJSON:
            geoms = _rounded(np.asarray(frame.geometry.values), snap=_snap_grid(self.target))
            frame = frame.set_geometry(list(geoms))
            pyogrio.write_dataframe(
                frame, self.partial, layer=str(self.layer), driver="GeoJSON", append=append,
                layer_options={"COORDINATE_PRECISION": 9},
            )  # fmt: skip
        elif self.file_format is ExportFormat.CSV:
            table = pd.DataFrame(frame.drop(columns="geometry"))
            # 9 decimals of a degree: 0.1 mm, what the database keeps to (6 was 0.1 m)
            geoms = _rounded(np.asarray(frame.geometry.values), snap=_snap_grid(self.target))
            table["wkt"] = shapely.to_wkt(geoms, rounding_precision=9)
            # a BOM first, so that Excel reads the Chinese text as UTF-8
            table.to_csv(self.partial, index=False, header=not append, mode="a" if append else "w",
                         encoding="utf-8" if append else "utf-8-sig")  # fmt: skip
        else:
            points = shapely.point_on_surface(np.asarray(frame.geometry.values))
            table = pd.DataFrame(frame.drop(columns="geometry"))
            x, y = ("lon", "lat") if self.target.is_geographic else ("x", "y")
            table[x], table[y] = shapely.get_x(points), shapely.get_y(points)
            self.sheet.append(table)

    def _write_workbook(self) -> None:
        """The rows on a sheet named as the layer, and the CRS of their points on a second
        sheet ``crs`` (a workbook has no other place for it; metres are x and y, not lon/lat)."""
        units = "degrees (lon, lat)" if self.target.is_geographic else "x, y"
        about = pd.DataFrame({"crs": [self.target.label], "coordinates": [units]})
        with pd.ExcelWriter(self.partial, engine="openpyxl") as book:
            pd.concat(self.sheet).to_excel(book, index=False, sheet_name=str(self.layer))
            about.to_excel(book, index=False, sheet_name="crs")
