"""The database schema, one definition for SQLite and PostgreSQL/PostGIS.

Boundary versions are kept as MapIt keeps generations: a version is a draft until published;
a published version never changes; ``district_state`` points at the current one and
``activations`` records which version was current from when, so lookups can be made "as of" any
time. Grids and units belong to a version. The duty roster (``duties``) is kept apart from the
versions, keyed by grid code, with validity dates. A planner's draft (``drafts``) is a base version
and the edits made on it (``draft_edits``); publishing stores the result as a version. Migrations live in ``geogrid/db/migrations``
(Alembic); this module is the model they must match (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
)

from .types import Geometry, LongStr, Str, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

districts = Table(
    "districts",
    metadata,
    Column("code", Str(32), primary_key=True),
    Column("name", Str(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", Str(32), ForeignKey("districts.code"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("status", Str(16), nullable=False),  # draft | published
    Column("base_id", Integer, ForeignKey("versions.id"), nullable=True),
    Column("note", LongStr, nullable=False, default=""),
    Column("meta", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Str(100), nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", Str(100), nullable=True),
    Column("grid_count", Integer, nullable=False),
    Column("unit_count", Integer, nullable=False),
    UniqueConstraint("district_code", "number"),
)

district_state = Table(
    "district_state",
    metadata,
    Column("district_code", Str(32), ForeignKey("districts.code"), primary_key=True),
    Column("current_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    # bumped by every publish and every roster change: what other processes poll
    Column("revision", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
)

activations = Table(
    "activations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", Str(32), ForeignKey("districts.code"), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("activated_at", UTCDateTime, nullable=False),
    Column("activated_by", Str(100), nullable=False),
    Index(None, "district_code", "activated_at"),
)

grids = Table(
    "grids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
    Column("level", Integer, nullable=False),  # 0 the district outline, 1, 2
    Column("code", Str(32), nullable=False),
    Column("name", Str(200), nullable=False),
    Column("parent", Str(32), nullable=True),
    Column("kind", Str(32), nullable=True),
    Column("attrs", JSON, nullable=False, default=dict),
    Column("geom", Geometry("Geometry"), nullable=False),
    UniqueConstraint("version_id", "code"),
    Index(None, "version_id", "level"),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
    Column("code", Str(32), nullable=False),
    Column("name", Str(300), nullable=False),
    Column("category", Str(64), nullable=False),
    Column("address", Str(300), nullable=True),
    Column("head", Str(100), nullable=True),
    Column("head_phone", Str(64), nullable=True),
    Column("grid", Str(32), nullable=False),
    Column("households", Integer, nullable=True),
    Column("residents", Integer, nullable=True),
    Column("attrs", JSON, nullable=False, default=dict),
    Column("geom", Geometry("Point"), nullable=False),
    # why a planner put the unit in ``grid`` by hand (None: the grid it stands in)
    Column("grid_override", Str(200), nullable=True),
    UniqueConstraint("version_id", "code"),
    Index(None, "version_id", "grid"),
)

#: A planner's draft: a base version and the edits made on it (``draft_edits``), replayed to get
#: the drafted district. ``revision`` goes up with every change (optimistic locking).
drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", Str(32), ForeignKey("districts.code"), nullable=False),
    Column("base_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("name", Str(200), nullable=False),
    Column("created_by", Str(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("status", Str(16), nullable=False),  # open | published | discarded
    Column("published_version_id", Integer, ForeignKey("versions.id"), nullable=True),
    Index(None, "district_code", "status"),
)

#: The edits of a draft in order (``seq``); undone edits are inactive until redone, and a new
#: edit drops them.
draft_edits = Table(
    "draft_edits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("draft_id", Integer, ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("edit", JSON, nullable=False),  # geogrid.planning.Edit.to_dict()
    Column("actor", Str(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("draft_id", "seq"),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Str(16), nullable=False),  # person | office
    Column("name", Str(200), nullable=False),
    Column("phone", Str(64), nullable=True),
    Column("title", Str(200), nullable=True),
)

duties = Table(
    "duties",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", Str(32), ForeignKey("districts.code"), nullable=False),
    Column("grid_code", Str(32), nullable=False),
    Column("role", Str(16), nullable=False),  # leader | office | worker
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=True),
    Column("created_by", Str(100), nullable=False),
    Index(None, "district_code", "grid_code", "role", "valid_from"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Str(100), nullable=False, unique=True),
    Column("display_name", Str(200), nullable=False),
    Column("role", Str(16), nullable=False),  # dispatcher | planner | worker | office | admin
    Column("grid_code", Str(32), nullable=True),
    Column("password_hash", Str(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("office", Str(200), nullable=True),  # the service office of an office user
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", Str(200), nullable=False),
    Column("token_hash", Str(64), nullable=False, unique=True),
    Column("prefix", Str(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

#: Logins on the web: a browser's session cookie names one row (by the SHA-256 of its secret);
#: logging out, a new password or a disabled account ends it, so a saved cookie stops working.
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("secret_hash", Str(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("district_code", Str(32), ForeignKey("districts.code"), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("grid_code", Str(32), nullable=True),
    Column("grid1_code", Str(32), nullable=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("geom", Geometry("Point"), nullable=False),
    Column("input", JSON, nullable=True),  # the coordinates as given, when not WGS-84
    Column("category", Str(100), nullable=False),  # a code of incident_categories
    Column("description", LongStr, nullable=False, default=""),
    Column("channel", Str(32), nullable=False),
    Column("reporter", Str(200), nullable=True),
    Column("state", Str(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Str(100), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),  # the handling deadline, from dispatch
    Column("closed_at", UTCDateTime, nullable=True),
    Column("reporter_contact", Str(200), nullable=True),
    Column("informant_kind", Str(32), nullable=True),
    Column("informant_name", Str(200), nullable=True),
    Column("address", Str(300), nullable=True),
    Column("unit_code", Str(32), nullable=True),
    Column("worker", Str(200), nullable=True),
    Column("office", Str(200), nullable=True),
    Column("dispatched_at", UTCDateTime, nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("office_due_at", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("revisit_due_at", UTCDateTime, nullable=True),
    Column("revisited_at", UTCDateTime, nullable=True),
    Column("satisfaction", Str(16), nullable=True),
    Column("recurrences", Integer, nullable=False, default=0),
    Column("merged_into", Integer, ForeignKey("incidents.id"), nullable=True),
    Column("media_url", Str(500), nullable=True),  # a photo elsewhere (Open311's media_url)
    Index(None, "district_code", "state"),
    Index(None, "district_code", "created_at"),
    Index(None, "grid_code", "created_at"),
    Index(None, "category"),
    Index(None, "office"),
    Index(None, "merged_into"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Str(100), nullable=False),
    Column("from_state", Str(16), nullable=True),
    Column("to_state", Str(16), nullable=False),
    Column("note", LongStr, nullable=False, default=""),
    Column("action", Str(16), nullable=False),  # report | an action | reassign | reroute | photo
    Column("detail", JSON, nullable=False, default=dict),
    # the live feed's scope (geogrid.db.feed): the incident's as the event left it; ``office``
    # only while the incident is escalated to that office
    Column("district_code", Str(32), nullable=False),
    Column("grid_code", Str(32), nullable=True),
    Column("worker", Str(200), nullable=True),
    Column("office", Str(200), nullable=True),
    Index(None, "incident_id"),
    Index(None, "district_code", "id"),
)

incident_photos = Table(
    "incident_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Integer, ForeignKey("incident_events.id"), nullable=True),
    Column("key", Str(100), nullable=False, unique=True),  # file name in the photo folder
    Column("content_type", Str(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Str(100), nullable=False),
    Index(None, "incident_id"),
)

incident_categories = Table(
    "incident_categories",
    metadata,
    Column("code", Str(8), primary_key=True),
    Column("major", Str(100), nullable=False),
    Column("major_en", Str(200), nullable=False),
    Column("minor", Str(100), nullable=False),
    Column("minor_en", Str(200), nullable=False),
    Column("workdays", Integer, nullable=False),
    Column("office", Str(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Str(100), nullable=False),
    Column("action", Str(64), nullable=False),
    Column("entity", Str(32), nullable=False),  # version | draft | roster | user | token...
    Column("entity_key", Str(100), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Index(None, "entity", "entity_key"),
)

#: Tables in dependency order (dump/restore walks them in this order).
TABLES = [
    districts,
    versions,
    district_state,
    activations,
    grids,
    units,
    drafts,
    draft_edits,
    people,
    duties,
    users,
    api_tokens,
    login_sessions,
    incident_categories,
    incidents,
    incident_events,
    incident_photos,
    audit_log,
]
