"""Who is looking: OIDC (st.login) when [auth] is configured, else local users, else open demo mode.

The identity decides the region scope of every query (ui.scoped) and which pages are listed.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from data_access.identity import audit, sessions
from data_access.identity.audit import AuditAction
from data_access.identity.auth import (
    LOCAL_CLIENT,
    Identity,
    Role,
    any_user_exists,
    authenticate,
    identity_from_claims,
    region_fits_role,
)
from data_access.identity.scope import WHOLE_PROVINCE, Scope

from . import runtime
from .session_routes import SESSION_COOKIE, SESSION_PATH, SIGNOUT_PATH, post_script

LOG = logging.getLogger(__name__)
_SESSION_KEY = "_session_id"  # the signed-in session of this tab (data_access.identity.sessions)
_HANDOFF_KEY = "_session_handoff"  # a code the browser has yet to swap for its cookie
_SIGNOUT_KEY = "_session_signout"  # the browser has yet to delete its cookie
_EXPIRED_KEY = "_session_expired"
_LOGGED_KEY = "_login_audited"
_CURRENT_KEY = "_current_identity"
FAILED_LOGIN_DELAY_S = 1.0
OPEN_IDENTITY = Identity(username="demo", role=Role.PROVINCE, region_code=None, display_name="演示模式（未启用登录）")


def _oidc_settings() -> dict[str, Any] | None:
    """The [auth] section of .streamlit/secrets.toml, or None when there is none."""
    try:
        return dict(st.secrets["auth"]) if "auth" in st.secrets else None
    except (FileNotFoundError, KeyError, AttributeError):
        return None


def _claim_mapping() -> dict[str, Any] | None:
    """The [access] section of secrets.toml: which OIDC claims carry role and region (None: defaults).

    Kept out of [auth], whose sub-tables Streamlit reads as identity providers."""
    try:
        return dict(st.secrets["access"]) if "access" in st.secrets else None
    except (FileNotFoundError, KeyError, AttributeError):
        return None


def scope_of(identity: Identity) -> Scope:
    """The region every query of this viewer is limited to (WHOLE_PROVINCE for a province user).
    A city or county user without a region gets no scope at all (fails closed)."""
    if identity.role is Role.PROVINCE:
        return WHOLE_PROVINCE
    if identity.region_code is None:
        raise PermissionError(f"{identity.username}: a {identity.role.value} user without a region")
    return Scope(identity.region_code)


def gate(before_sign_in: Callable[[], object]) -> Identity:
    """The signed-in identity of this run. Until there is one: calls `before_sign_in` (app.py registers
    its pages there, hidden, before anything is drawn), draws the sign-in and stops the run."""
    identity = _signed_in()
    if identity is None:
        before_sign_in()
        _browser_errand(_SIGNOUT_KEY, SIGNOUT_PATH)  # after 退出登录: the cookie goes too
        _sign_in()
        st.stop()
    _browser_errand(_HANDOFF_KEY, SESSION_PATH)  # just signed in: the browser fetches its cookie
    st.session_state[_CURRENT_KEY] = identity
    return identity


def _browser_errand(key: str, path: str) -> None:
    """Once, if the session state holds `key`: have the browser POST its value to `path` of this server
    (the cookie routes of ui/session_routes.py; without server.py the POST fails quietly)."""
    if key in st.session_state:
        st.html(post_script(path, str(st.session_state.pop(key) or "")), unsafe_allow_javascript=True)


def is_supervisor(identity: Identity) -> bool:
    """Province and city users supervise (open, sign off, send back 督办 items); county users reply."""
    return identity.role in (Role.PROVINCE, Role.CITY)


def current_identity() -> Identity:
    """The identity gate() established for this run (pages and downloads use it for the audit)."""
    return st.session_state[_CURRENT_KEY]


def _signed_in() -> Identity | None:
    """The viewer's identity, None until there is one (draws nothing)."""
    if _oidc_settings() is not None:
        return _oidc_identity()
    if not any_user_exists(runtime.engine()):
        return OPEN_IDENTITY
    idle = dt.timedelta(hours=runtime.sign_in_settings().idle_timeout_hours)
    lifetime = sessions.lifetime_of(runtime.sign_in_settings().session_lifetime_hours)
    if (session_id := st.session_state.get(_SESSION_KEY)) is not None:
        # every run re-checks: sign-out elsewhere, the idle timeout, the lifetime or a disabled user end it at once
        if (identity := sessions.check_session(runtime.engine(), session_id, idle, lifetime=lifetime)) is not None:
            return identity
        st.session_state.pop(_SESSION_KEY)
        st.session_state[_EXPIRED_KEY] = True
        return None
    token = st.context.cookies.get(SESSION_COOKIE)  # F5, a new tab, a bookmark: the browser's cookie
    if isinstance(token, str) and token and (
            resumed := sessions.resume_by_token(runtime.engine(), token, idle, lifetime=lifetime)) is not None:
        st.session_state[_SESSION_KEY] = resumed.session_id
        return resumed.identity
    return None


def _sign_in() -> None:
    """The way in: the local form; with OIDC the sign-in button, or the refusal of an account without access."""
    if _oidc_settings() is None:
        _login_form()
    elif not st.user.is_logged_in:
        st.title("信访举报督导看板")
        st.button("使用单位账号登录", on_click=st.login, type="primary")
    else:
        st.error("您的账号没有本看板的访问权限，请联系信息技术人员。")
        st.button("退出登录", on_click=st.logout)


def _login_form() -> None:
    st.title("信访举报督导看板")
    st.caption("请使用分配的账号登录。账号与权限由信息技术人员用 python -m data_access user 管理。")
    with st.form("login", width=420):
        username = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        if st.session_state.pop(_EXPIRED_KEY, False):
            st.info("登录已失效（已退出、长时间未操作、超过登录有效期或账号已停用），请重新登录。")
        return
    engine, client = runtime.engine(), client_address()
    result = authenticate(engine, username, password, client=client, settings=runtime.sign_in_settings())
    if result.ok and result.identity is not None:
        started = sessions.start_session(engine, result.identity)
        st.session_state[_SESSION_KEY] = started.session_id
        st.session_state[_HANDOFF_KEY] = started.handoff_code
        audit.record(engine, result.identity, AuditAction.LOGIN, f"本地账号登录（地址 {client}）",
                     scope=scope_of(result.identity).code)
        st.rerun()
    typed = username.strip().lower()[:64] or "(空)"
    audit.record(engine, typed, AuditAction.LOGIN_FAILED,
                 f"登录失败：{result.reason.label if result.reason else '原因不明'}（地址 {client}）")
    for lockout in result.lockouts:
        audit.record(engine, lockout.username or typed, AuditAction.LOCKOUT, lockout.detail)
    time.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing; the brakes in data_access.identity.auth hold back what persists
    st.error(result.message)  # one message for every refusal: the form tells nobody who exists or why


def client_address() -> str:
    """The address the sign-in comes from: the websocket's peer, which behind the proxy is the client's own address
    (uvicorn takes it from X-Forwarded-For when the peer is a trusted proxy, FORWARDED_ALLOW_IPS, 127.0.0.1 by
    default); loopback, which Streamlit reports as None, is LOCAL_CLIENT (as is a run without a browser)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else LOCAL_CLIENT


def _oidc_identity() -> Identity | None:
    """The OIDC account's identity, None when not signed in or when its claims give no access here."""
    if not st.user.is_logged_in:
        return None
    identity = identity_from_claims(st.user.to_dict(), _claim_mapping())
    if identity is None or not region_fits_role(runtime.engine(), identity.role, identity.region_code):
        return None
    if not st.session_state.get(_LOGGED_KEY):
        audit.record(runtime.engine(), identity, AuditAction.LOGIN, "单位账号（OIDC）登录", scope=scope_of(identity).code)
        st.session_state[_LOGGED_KEY] = True
    return identity


def logout() -> None:
    """End the sign-in (local: the session in the database, then the browser's cookie; or OIDC)."""
    identity = st.session_state.get(_CURRENT_KEY)
    if (session_id := st.session_state.pop(_SESSION_KEY, None)) is not None:
        sessions.end_session(runtime.engine(), session_id)
        st.session_state[_SIGNOUT_KEY] = ""
    if identity is not None and identity != OPEN_IDENTITY:
        audit.record(runtime.engine(), identity, AuditAction.LOGOUT, "退出登录", scope=scope_of(identity).code)
    if _oidc_settings() is not None:
        st.logout()


def user_box(identity: Identity) -> None:
    """Who is signed in, with a logout button (nothing in open mode)."""
    if identity == OPEN_IDENTITY:
        return
    st.sidebar.caption(f"当前用户：{identity.display_name}（{identity.role.label}）")
    st.sidebar.button("退出登录", on_click=logout, key="logout", icon=":material/logout:")


def audited(action: AuditAction, detail: str):  # -> Callable[[], bool]
    """A function recording `action` for the current viewer, callable later from any thread
    (download callables run outside the script run, so the engine and identity are captured now)."""
    engine, identity = runtime.engine(), current_identity()

    def record() -> bool:
        return audit.record(engine, identity, action, detail, scope=scope_of(identity).code)

    return record
