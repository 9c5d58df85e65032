"""BASELINE for the benchmark only, never deployed: POST /post the way the Cognito "post"
tutorial writes it in Python 3.11 + boto3: the new id is Scan(Select=COUNT) + 1, then an
unconditional PutItem. Every write reads the whole table, and two concurrent writers get the
same id, so one post silently replaces the other; the benchmark measures both."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["BASELINE_POSTS_TABLE"])


def lambda_handler(event, context):
    author = event["requestContext"]["authorizer"]["username"]
    body = json.loads(event["body"])
    count = table.scan(Select="COUNT")["Count"]
    item = {
        "id": count + 1,
        "title": body["title"],
        "contents": body["contents"],
        "author": author,
    }
    table.put_item(Item=item)
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(item, default=int),
    }
