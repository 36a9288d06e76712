"""/api/v1/measurements: strict uploads, one measurement, and its flow image with long caching."""
from __future__ import annotations

import dataclasses

from flask import Response, g, request
from marshmallow import ValidationError

from ...db import db
from ...services import history
from ...services.batch import ItemResult, ingest_batch
from ...services.ingest import ingest
from .core import Blueprint
from .schemas import (BatchResultSchema, BatchSchema, IngestResultSchema, MeasurementSchema,
                      MeasurementUploadSchema, NoQuerySchema, quick_upload)

blp = Blueprint("measurements", __name__, url_prefix="/api/v1",
                description="Measurements: upload, read, flow image")
no_query = blp.arguments(NoQuerySchema(), location="query", as_kwargs=True)

#: The image of a measurement never changes (rows are append-only, the ETag is its SHA-256), so
#: browsers may keep it for a year; "private" keeps patient data out of shared proxies and CDNs.
IMAGE_CACHE_CONTROL = "private, max-age=31536000, immutable"

_IMAGE_DOC = {"responses": {
    "200": {"description": "The image bytes",
            "headers": {"ETag": {"schema": {"type": "string"}},
                        "Cache-Control": {"schema": {"type": "string"}}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}}
                        for media in ("image/jpeg", "image/png")}},
    "304": {"description": "Not modified: If-None-Match named the current ETag"}},
    "parameters": [{"in": "header", "name": "If-None-Match", "required": False,
                    "schema": {"type": "string"}}]}


@blp.post("/measurements")
@no_query
@blp.arguments(MeasurementUploadSchema)
@blp.response(201, IngestResultSchema)
@blp.alt_response(200, schema=IngestResultSchema,
                  description="A retry (same client_uuid, same content): the stored upload")
@blp.error(409, "The room changed too often, or client_uuid was reused")
@blp.error(503, "The room is locked or the database is unavailable")
def create_measurement(upload):
    """Upload a measurement (same service as /add_patient, strict JSON types)"""
    upload = dataclasses.replace(upload, created_by=g.get("token_name"),
                                 request_id=g.get("request_id"))
    result = ingest(db.session, upload)
    return result, 200 if result.outcome == "duplicate" else 201  # a retry of a stored upload


upload_schema = MeasurementUploadSchema()


@blp.post("/measurements/batch")
@no_query
@blp.arguments(BatchSchema)
@blp.response(200, BatchResultSchema)
@blp.error(409, "The rooms changed too often to record the batch")
@blp.error(503, "A room is locked or the database is unavailable")
def create_measurements(batch):
    """Upload up to 1000 measurements in one transaction; each item answers for itself"""
    valid, invalid = _load_items(batch["items"])
    stored = ingest_batch(db.session, valid, created_by=g.get("token_name"),
                          request_id=g.get("request_id")) if valid else []
    return {"results": sorted(stored + invalid, key=lambda r: r.index)}


def _load_items(items: list) -> tuple[list, list[ItemResult]]:
    """Validate each item alone: (index, Upload) for the good ones, error results for the rest."""
    valid, invalid = [], []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValidationError({"item": ["must be a JSON object"]})
            valid.append((index, quick_upload(item) or upload_schema.load(item)))
        except ValidationError as exc:
            invalid.append(ItemResult(index, "error", errors=exc.normalized_messages()))
    return valid, invalid


@blp.get("/measurements/<int:measurement_id>")
@no_query
@blp.response(200, MeasurementSchema)
@blp.error(404, "Unknown measurement")
def get_measurement(measurement_id):
    """Get one measurement"""
    return history.get_measurement(db.session, measurement_id)


@blp.get("/measurements/<int:measurement_id>/flow-image")
@no_query
@blp.doc(**_IMAGE_DOC)
@blp.error(404, "Unknown measurement, or it has no image")
def get_flow_image(measurement_id):
    """Get the flow image bytes (JPEG or PNG), cacheable; 304 on a matching If-None-Match"""
    wanted = request.if_none_match
    image = history.flow_image(db.session, measurement_id,
                               list(wanted.as_set(include_weak=True)), wanted.star_tag)
    response = Response(image.data, mimetype=image.media_type) if image.data is not None \
        else Response(status=304)
    response.set_etag(image.etag)
    response.headers["Cache-Control"] = IMAGE_CACHE_CONTROL
    return response
