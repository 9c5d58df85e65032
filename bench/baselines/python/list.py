"""BASELINE for the benchmark only, never deployed: GET /notes the way the PollyNotes lab writes
it in Python 3.11 + boto3 (one Query of the caller's partition, all items returned). The caller
comes from the authorizer context instead of the lab's hard-coded "student", so that both sides
do the same work."""

import json
import os

import boto3
from boto3.dynamodb.conditions import Key

table = boto3.resource("dynamodb").Table(os.environ["NOTES_TABLE"])


def lambda_handler(event, context):
    user = event["requestContext"]["authorizer"]["username"]
    response = table.query(KeyConditionExpression=Key("UserId").eq(user))
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(response["Items"], default=str),
    }
