// The training job as a Container Apps Job on the GPU profile: started by hand
// (az containerapp job start), or also by messages on the training-requests queue.
// (AVM: avm/res/app/job, Microsoft.App/jobs; event trigger with a KEDA azure-queue rule.)

param location string
param name string
param environmentId string
param workloadProfileName string
param image string
param registryServer string
param identityId string
param identityClientId string
param storageAccountName string

@description('Also start an execution per message on the training-requests queue.')
param queueTriggered bool = false

@description('Seconds an execution may run before it is stopped.')
param replicaTimeout int = 14400

param cpu string = '8.0'
param memory string = '56Gi'
param tags object = {}

var env = [
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'PIPELINE_STORAGE_ACCOUNT'
    value: storageAccountName
  }
  {
    name: 'PIPELINE_TRAINING_QUEUE'
    value: 'training-requests'
  }
]

var manualConfig = {
  triggerType: 'Manual'
  replicaTimeout: replicaTimeout
  replicaRetryLimit: 1
  manualTriggerConfig: {
    parallelism: 1
    replicaCompletionCount: 1
  }
}

var eventConfig = {
  triggerType: 'Event'
  replicaTimeout: replicaTimeout
  replicaRetryLimit: 1
  eventTriggerConfig: {
    parallelism: 1
    replicaCompletionCount: 1
    scale: {
      minExecutions: 0
      maxExecutions: 2
      pollingInterval: 60
      rules: [
        {
          name: 'training-requests'
          type: 'azure-queue'
          metadata: {
            accountName: storageAccountName
            queueName: 'training-requests'
            queueLength: '1'
          }
          identity: identityId
        }
      ]
    }
  }
}

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: union(queueTriggered ? eventConfig : manualConfig, {
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
    })
    template: {
      containers: [
        {
          name: 'training'
          image: image
          env: env
          resources: {
            cpu: json(cpu)
            memory: memory
          }
        }
      ]
    }
  }
}

output id string = job.id
output name string = job.name
