// BASELINE for the benchmark only, never deployed: GET /notes the way the PollyNotes lab writes
// it, in Node 20 + AWS SDK v3 (one Query of the caller's partition, all items returned). The
// caller comes from the authorizer context instead of the lab's hard-coded "student".
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  const user = event.requestContext.authorizer.username;
  const result = await client.send(
    new QueryCommand({
      TableName: process.env.NOTES_TABLE,
      KeyConditionExpression: "UserId = :user",
      ExpressionAttributeValues: { ":user": user },
    }),
  );
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(result.Items),
  };
};
