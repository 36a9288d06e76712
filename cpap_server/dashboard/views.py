"""Dashboard pages: ward overview, room and stay pages, patient history, login."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from ..db import db
from ..errors import AppError, error_response
from ..services.commands import command_pressure
from . import access, bp, read_model
from .presenters import stay_page

RESULT_MESSAGES = {"ok": "status-ok", "error": "status-error"}


def local_zone():
    """The server's local time zone: the ward's clock."""
    return datetime.now().astimezone().tzinfo


@bp.app_template_filter("localtime")
def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A timestamp in the ward's local time."""
    return value.astimezone(local_zone()).strftime(fmt) if value else ""


@bp.context_processor
def page_globals() -> dict:
    """What every page template may use."""
    login = access.current_login() if access.auth_enabled() else None
    return {"csrf_token": access.csrf_token, "login": login}


@bp.get("/")
@access.login_required
def overview():
    """The ward overview: tiles filled and refreshed by overview.js from /api/v1/rooms."""
    return render_template("dashboard/overview.html",
                           refresh_seconds=current_app.config["DASHBOARD_REFRESH_SECONDS"],
                           stale_seconds=current_app.config["CPAP_STALE_SECONDS"])


@bp.get("/dashboard/stay-totals.json")
def stay_totals():
    """Per room: the current stay's recording count and total apneas (not in /api/v1/rooms)."""
    if access.auth_enabled() and access.current_login() is None:
        return error_response(401, "Sign in to the dashboard first")
    totals = read_model.stay_totals(db.session)
    return jsonify({"rooms": {str(room): value for room, value in totals.items()}})


@bp.get("/dashboard/rooms/<int:room>")
@access.login_required
def room(room: int):
    """A room's current stay: identity, images, charts, picker, pressure command."""
    view = read_model.room(db.session, room)
    if view is None:
        return message("Not found", f"Room {room} is not known here.", 404)
    return render_template("dashboard/stay.html",
                           **stay_page(db.session, view, request.args.get("at"), local_zone()))


@bp.get("/dashboard/stays/<int:stay_id>")
@access.login_required
def stay(stay_id: int):
    """Any stay, current or ended: identity, images, charts and picker, read-only."""
    view = read_model.stay(db.session, stay_id)
    if view is None:
        return message("Not found", f"Stay {stay_id} is not known here.", 404)
    return render_template("dashboard/stay.html", history=True,
                           **stay_page(db.session, view, request.args.get("at"), local_zone()))


@bp.get("/dashboard/patients/<int:mrn>")
@access.login_required
def patient(mrn: int):
    """A patient's stays, newest first, each linking to its page."""
    found = read_model.patient_stays(db.session, mrn)
    if found is None:
        return message("Not found", f"No patient with MRN {mrn} is known here.", 404)
    person, stays = found
    return render_template("dashboard/patient.html", patient=person, stays=stays)


@bp.post("/dashboard/rooms/<int:room>/cpap-pressure")
@access.login_required
def command(room: int):
    """The pressure form without JavaScript: CSRF-checked, validated by the service."""
    if not access.csrf_valid(request.form.get("csrf_token")):
        return message("Form expired", "This form has expired; reload the page and retry.", 400)
    login = access.current_login() if access.auth_enabled() else None
    try:
        pressure = int(request.form.get("cpap_pressure", ""))
        done = command_pressure(db.session, room, pressure, by=login[0] if login else None)
        flash(f"Commanded {done.cpap_pressure} cmH2O for room {room} at "
              f"{localtime(done.commanded_at, '%H:%M:%S')}", "ok")
    except ValueError:
        flash("CPAP pressure must be a whole number from 4 to 25", "error")
    except AppError as exc:
        flash(f"Not commanded: {exc.message}", "error")
    return redirect(url_for(".room", room=room) + "#command")


@bp.route("/dashboard/login", methods=["GET", "POST"])
def login():
    """Ask once for a monitor or admin token; keep the login in the session cookie."""
    if not access.auth_enabled():
        return redirect(access.safe_next(request.args.get("next")))
    refusal = None
    if request.method == "POST":
        refusal = (access.sign_in(request.form.get("token", ""))
                   if access.csrf_valid(request.form.get("csrf_token"))
                   else ("This form has expired; please try again", 400))
        if refusal is None:
            return redirect(access.safe_next(request.args.get("next")))
    error, status = refusal or (None, 200)
    return render_template("dashboard/login.html", error=error), status


@bp.post("/dashboard/logout")
def logout():
    """End the dashboard session (CSRF-checked so no other site can sign a nurse out)."""
    if access.csrf_valid(request.form.get("csrf_token")):
        access.log_out()
    return redirect(url_for(".login") if access.auth_enabled() else url_for(".overview"))


def message(title: str, text: str, status: int):
    """A short HTML page for a human (dashboard errors are pages, not JSON)."""
    return render_template("dashboard/message.html", title=title, text=text), status


@bp.app_template_global()
def result_class(category: str) -> str:
    """CSS class of a flashed result."""
    return RESULT_MESSAGES.get(category, "status-ok")
