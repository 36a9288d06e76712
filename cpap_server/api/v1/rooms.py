"""/api/v1/rooms: the monitoring station's view of each room, its history and pressure command."""
from __future__ import annotations

from flask import g

from ...db import db
from ...errors import NotFound
from ...services import commands, history, rooms
from .core import Blueprint
from .schemas import (HistoryQuerySchema, MeasurementPageSchema, NoQuerySchema,
                      PressureCommandInSchema, RoomCommandSchema, RoomListSchema, RoomSchema,
                      TimestampsSchema)

blp = Blueprint("rooms", __name__, url_prefix="/api/v1",
                description="Rooms: occupant, latest measurement, history, pressure command")
no_query = blp.arguments(NoQuerySchema(), location="query", as_kwargs=True)


@blp.get("/rooms")
@no_query
@blp.response(200, RoomListSchema)
def list_rooms():
    """List every room in room order"""
    return {"rooms": rooms.list_rooms(db.session)}


@blp.get("/rooms/<int:room>")
@no_query
@blp.response(200, RoomSchema)
@blp.error(404, "Unknown room")
def get_room(room):
    """Get one room"""
    return rooms.get_room(db.session, room)


@blp.get("/rooms/<int:room>/measurements")
@blp.arguments(HistoryQuerySchema(), location="query")
@blp.response(200, MeasurementPageSchema)
@blp.error(404, "Unknown room")
def list_room_measurements(window, room):
    """Page through the current stay's measurements, newest first

    Keyset pagination: pass the `next` of a page as `cursor` to get the following one.
    A room without a patient answers an empty page.
    """
    return history.room_measurements(db.engine, room, window)


@blp.get("/rooms/<int:room>/timestamps")
@no_query
@blp.response(200, TimestampsSchema)
@blp.error(404, "Unknown room")
def list_room_timestamps(room):
    """List the recording times of the current stay, newest first"""
    return {"timestamps": history.room_timestamps(db.engine, room)}


@blp.get("/rooms/<int:room>/cpap-pressure")
@no_query
@blp.response(200, RoomCommandSchema)
@blp.error(404, "Unknown room, or no pressure commanded")
def get_cpap_pressure(room):
    """Get the pressure commanded for the room"""
    command = commands.commanded_pressure(db.engine, room)
    if command is None:
        raise NotFound(f"No CPAP pressure has been commanded for room {room}")
    return command


@blp.put("/rooms/<int:room>/cpap-pressure")
@no_query
@blp.arguments(PressureCommandInSchema)
@blp.response(200, RoomCommandSchema)
@blp.error(404, "Unknown room")
def put_cpap_pressure(body, room):
    """Command a CPAP pressure (4..25 cmH2O); bedside clients poll it via /CPAP_query"""
    return commands.command_pressure(db.session, room, body["cpap_pressure"],
                                     by=g.get("token_name"))
