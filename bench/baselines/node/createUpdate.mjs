// BASELINE for the benchmark only, never deployed: POST /notes the way the PollyNotes lab writes
// it, in Node 20 + AWS SDK v3 (an unconditional PutItem of the body's NoteId and Note).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  const user = event.requestContext.authorizer.username;
  const body = JSON.parse(event.body);
  const item = { UserId: user, NoteId: String(body.NoteId), Note: body.Note };
  await client.send(new PutCommand({ TableName: process.env.NOTES_TABLE, Item: item }));
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(item),
  };
};
