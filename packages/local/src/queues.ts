import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { dlqName, QUEUES, type QueueName, type QueueSpec, visibilityTimeout } from "@icp/store";

export type LocalQueue = { spec: QueueSpec; url: string; arn: string; dlqUrl: string };

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  const arn = res.Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for ${url}`);
  return arn;
}

/** Create every queue of the manifest with its DLQ and redrive policy, as SST does in AWS. */
export async function createQueues(sqs: SQSClient, prefix: string): Promise<Record<QueueName, LocalQueue>> {
  const out = {} as Record<QueueName, LocalQueue>;
  for (const spec of QUEUES) {
    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}${dlqName(spec.name)}`,
        Attributes: { MessageRetentionPeriod: "1209600" },
      }),
    );
    const dlqUrl = dlq.QueueUrl ?? "";
    const q = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}${spec.name}`,
        Attributes: {
          VisibilityTimeout: String(visibilityTimeout(spec)),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await arnOf(sqs, dlqUrl),
            maxReceiveCount: spec.maxReceiveCount,
          }),
        },
      }),
    );
    const url = q.QueueUrl ?? "";
    out[spec.name] = { spec, url, arn: await arnOf(sqs, url), dlqUrl };
  }
  return out;
}
