"""The API's JSON parser: a body must be one JSON object we can store (see
`syncfirm.json_limits`), or the answer is a 400 that says what is wrong with it."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from syncfirm.json_limits import BadJson, load_json


class ObjectJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        try:
            return load_json(stream.read())
        except BadJson as error:
            raise ParseError(f"JSON parse error - {error}") from error
