"""The client of the Fund's service «ЕИИС Соцстрах» (FileOperationsLnService), v2.0 and v1.1.

No Textual here (import contract); this package uses :mod:`gostsign` for XML security and a
:mod:`providers` key session for the МО's key. Entry point: :class:`FssClient` with an
:class:`FssConfig`. The row builder (:mod:`eln_tui.core.fss.rows`) also builds the blocks the
doctors and VK chairmen sign (:func:`block_xml`, :func:`sign_block`).
"""

from __future__ import annotations

from eln_tui.core.fss.audit import AuditSink, ExchangeRecord, Outcome
from eln_tui.core.fss.client import MAX_NUMBERS_PER_REQUEST, FssClient
from eln_tui.core.fss.config import ENDPOINTS, Contour, FssConfig, ProtocolVersion
from eln_tui.core.fss.errors import (
    FssConfigError,
    FssError,
    FssFault,
    FssReplyError,
    FssRequestError,
    FssServiceError,
    FssTimeout,
    FssTransportError,
    ReplayError,
    ReplyDecryptError,
    ReplyFormatError,
    ReplySignatureError,
)
from eln_tui.core.fss.operations import Operation
from eln_tui.core.fss.results import (
    LnData,
    LnDataResult,
    LnListEntry,
    LnListResult,
    NumbersResult,
    RegistryResult,
    RowError,
    RowResult,
    SentRow,
    WsResult,
)
from eln_tui.core.fss.rows import (
    MAX_ROWS,
    RowInput,
    block_xml,
    build_row,
    sign_block,
    stored_fragment,
)
from eln_tui.core.fss.security import (
    FssWsse,
    MemoryReplayStore,
    MoKey,
    ReplayGuard,
    ReplayStore,
    VerifiedReply,
)

__all__ = [
    "ENDPOINTS",
    "MAX_NUMBERS_PER_REQUEST",
    "MAX_ROWS",
    "AuditSink",
    "Contour",
    "ExchangeRecord",
    "FssClient",
    "FssConfig",
    "FssConfigError",
    "FssError",
    "FssFault",
    "FssReplyError",
    "FssRequestError",
    "FssServiceError",
    "FssTimeout",
    "FssTransportError",
    "FssWsse",
    "LnData",
    "LnDataResult",
    "LnListEntry",
    "LnListResult",
    "MemoryReplayStore",
    "MoKey",
    "NumbersResult",
    "Operation",
    "Outcome",
    "ProtocolVersion",
    "RegistryResult",
    "ReplayError",
    "ReplayGuard",
    "ReplayStore",
    "ReplyDecryptError",
    "ReplyFormatError",
    "ReplySignatureError",
    "RowError",
    "RowInput",
    "RowResult",
    "SentRow",
    "VerifiedReply",
    "WsResult",
    "block_xml",
    "build_row",
    "sign_block",
    "stored_fragment",
]
