// BASELINE for the benchmark only, never deployed: POST /post the way the Cognito "post"
// tutorial writes it, in Node 20 + AWS SDK v3: the new id is Scan(Select COUNT) + 1, then an
// unconditional PutItem. Every write reads the whole table, and two concurrent writers get the
// same id, so one post silently replaces the other; the benchmark measures both.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const table = process.env.BASELINE_POSTS_TABLE;

export const handler = async (event) => {
  const author = event.requestContext.authorizer.username;
  const body = JSON.parse(event.body);
  const { Count } = await client.send(new ScanCommand({ TableName: table, Select: "COUNT" }));
  const item = { id: Count + 1, title: body.title, contents: body.contents, author };
  await client.send(new PutCommand({ TableName: table, Item: item }));
  return {
    statusCode: 201,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(item),
  };
};
