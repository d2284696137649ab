"""The column forms, one module each, found by the tag that starts an encoding.

| tag | form                  | values                                                    |
|-----|-----------------------|-----------------------------------------------------------|
| c   | ConstantForm          | one value in every row                                    |
| j   | LiteralForm           | the values as they are                                    |
| v   | VarintsForm           | ints as zigzag varints in the binary part                 |
| u   | UnsignedVarintsForm   | ints >= 0 as plain varints in the binary part             |
| t   | StampForm             | millisecond UTC stamps as epoch milliseconds              |
| f   | DecimalForm           | floats of few decimals as scaled ints                     |
| d   | DeltaForm             | ints as differences between neighbours                    |
| b   | OffsetForm            | ints as a base plus small offsets                         |
| r   | ResidualForm          | ints minus another column's                               |
| q   | DurationForm          | ints minus the difference of two other columns            |
| s   | SuffixForm            | strings that start with another column's value            |
| p   | PrefixForm            | strings that are a prefix of another column's value       |
| k   | TokensForm            | strings of one shape, one column per digit/non-digit run  |
| x   | LookupForm            | strings looked up by the values of two other columns      |
| m   | EarlierVersionForm    | values of the record's earlier version in the batch       |
| h   | HexBytesForm          | prefix + hex strings as bytes in the binary part          |
| T   | BatchTimeForm         | the created time, from the batch's time column            |
"""

from ._form import (
    FORMS,
    ApplyContext,
    BinaryPart,
    Column,
    DecodeContext,
    Encoding,
    Form,
    Search,
    decode_column,
    place,
    skeleton,
)
from ._join import Join
from .batch_time import BATCH_TIME, BatchTimeForm
from .constant import CONSTANT, ConstantForm
from .decimals import DECIMALS, DecimalForm
from .deltas import DELTAS, DeltaForm
from .duration import DURATION, DurationForm
from .earlier_version import EARLIER_VERSION, EarlierVersionForm
from .hex_bytes import HEX_BYTES, HexBytesForm
from .literal import LITERAL, LiteralForm
from .lookup import LOOKUP, LookupForm
from .offset import OFFSET, OffsetForm
from .prefix import PREFIX, PrefixForm
from .residual import RESIDUAL, ResidualForm
from .stamps import STAMPS, StampForm
from .suffix import SUFFIX, SuffixForm
from .tokens import TOKENS, TokensForm
from .unsigned_varints import UNSIGNED_VARINTS, UnsignedVarintsForm
from .varints import VARINTS, VarintsForm

__all__ = [
    "BATCH_TIME", "CONSTANT", "DECIMALS", "DELTAS", "DURATION", "EARLIER_VERSION", "FORMS",
    "HEX_BYTES", "LITERAL", "LOOKUP", "OFFSET", "PREFIX", "RESIDUAL", "STAMPS", "SUFFIX",
    "TOKENS", "UNSIGNED_VARINTS", "VARINTS", "ApplyContext", "BatchTimeForm", "BinaryPart",
    "Column", "ConstantForm", "DecimalForm", "DecodeContext", "DeltaForm", "DurationForm",
    "EarlierVersionForm", "Encoding", "Form", "HexBytesForm", "Join", "LiteralForm",
    "LookupForm", "OffsetForm", "PrefixForm", "ResidualForm", "Search", "StampForm",
    "SuffixForm", "TokensForm", "UnsignedVarintsForm", "VarintsForm", "decode_column",
    "place", "skeleton",
]
