"""Reads the requests a Rust test recorded, as a receiving service would: each is parsed with the
CloudEvents SDK's HTTP reader (binary or structured mode, detected from the headers) and its
Standard Webhooks signature is verified with the `standardwebhooks` package. Prints one JSON line
per request.

Usage: receive.py REQUESTS_JSON SECRET
"""

import base64
import json
import sys

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook


def main(path, secret):
    with open(path, encoding="utf-8") as file:
        requests = json.load(file)
    verifier = Webhook(secret)
    for request in requests:
        headers = request["headers"]
        body = base64.b64decode(request["body"])
        # Raises WebhookVerificationError when no signature matches or the timestamp is off.
        verifier.verify(body, headers)
        event = from_http_event(HTTPMessage(headers=headers, body=body))
        print(json.dumps({
            "verified": True,
            "id": event.get_id(),
            "source": event.get_source(),
            "type": event.get_type(),
            "specversion": event.get_specversion(),
            "time": event.get_time().isoformat(),
            "datacontenttype": event.get_datacontenttype(),
            "minorversion": event.get_extension("minorversion"),
            "sourcehost": event.get_extension("sourcehost"),
            "sourcelib": event.get_extension("sourcelib"),
            "data": event.get_data(),
        }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
