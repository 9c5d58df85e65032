"""BASELINE for the benchmark only, never deployed: POST /notes the way the PollyNotes lab
writes it in Python 3.11 + boto3 (an unconditional PutItem of the body's NoteId and Note)."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["NOTES_TABLE"])


def lambda_handler(event, context):
    user = event["requestContext"]["authorizer"]["username"]
    body = json.loads(event["body"])
    item = {"UserId": user, "NoteId": str(body["NoteId"]), "Note": body["Note"]}
    table.put_item(Item=item)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(item),
    }
