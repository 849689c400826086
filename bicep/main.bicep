// Pipeline on Azure: storage, monitoring, a managed identity, a Container Apps environment with Consumption and
// serverless GPU profiles, the control Function app, the GPU worker Function app (one image, two roles) and the
// training Container Apps Job. Deploy with:
//   az deployment group create -g <rg> -f bicep/main.bicep -p bicep/main.dev.bicepparam
// See docs/azure.md for the whole procedure (registry, images, first run).
targetScope = 'resourceGroup'

@description('Azure region of every resource (must offer serverless GPUs for the chosen profile).')
param location string = resourceGroup().location

@description('Short environment name used in resource names (dev, test, prod).')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Prefix of every resource name.')
@minLength(2)
@maxLength(12)
param namePrefix string = 'pipeline'

@description('Storage account name; globally unique, 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param storageAccountName string = toLower('st${take(uniqueString(resourceGroup().id, environmentName), 13)}${environmentName}')

@description('Authenticate to storage with the managed identity (AzureWebJobsStorage__accountName / __credential / __clientId, read by Pipeline.Storage and the Functions host; docs/azure.md) and disable shared keys.')
param useManagedIdentity bool = true

@description('Serverless GPU profile of the inference worker and training job.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Name of an existing Azure Container Registry in this resource group holding the images.')
param containerRegistryName string

@description('Image tag to deploy for both Function app images.')
param imageTag string

@description('Repository of the CPU image (infra/functions-cpu.Dockerfile), control role.')
param controlImageRepository string = 'pipeline-functions'

@description('Repository of the GPU image (infra/functions-gpu.Dockerfile), GPU worker role.')
param gpuImageRepository string = 'pipeline-functions-gpu'

@description('Full image reference of the training job (infra/training.Dockerfile); empty skips the job.')
param trainingImage string = ''

@description('Also start a training execution per message on the training-requests queue.')
param trainingQueueTriggered bool = false

@description('Durable Functions task hub of the control app (letters and digits).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'pipeline${environmentName}'

@description('Control app replicas. The Azure Storage Durable backend cannot scale to zero on Container Apps.')
@minValue(1)
param controlMinReplicas int = 1
param controlMaxReplicas int = 10

@description('GPU worker replicas; 0 lets the worker scale to zero when the inference queue is empty.')
@minValue(0)
param gpuMinReplicas int = 0
param gpuMaxReplicas int = 4

@description('Inference messages per GPU replica before the worker scales out.')
@minValue(1)
param gpuQueueLength int = 4

param tags object = {}

var baseName = '${namePrefix}-${environmentName}'
var allTags = union(tags, {
  application: 'pipeline'
  environment: environmentName
})

// The role switch: each app disables the other role's triggers (names as in functions/Pipeline.Functions).
// Orchestrator and activity functions need no switch: the GPU worker works in its own, empty task hub.
var controlOnlyFunctions = [
  'AugmentRequests'
  'DatasetBlobCreated'
  'GetRun'
  'CancelRun'
]
var gpuOnlyFunctions = [
  'InferenceRequests'
]

module monitoring 'modules/monitoring.bicep' = {
  name: '${baseName}-monitoring'
  params: {
    location: location
    namePrefix: baseName
    tags: allTags
  }
}

module identity 'modules/identity.bicep' = {
  name: '${baseName}-identity'
  params: {
    location: location
    namePrefix: baseName
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: '${baseName}-storage'
  params: {
    location: location
    accountName: storageAccountName
    principalId: identity.outputs.principalId
    useManagedIdentity: useManagedIdentity
    tags: allTags
  }
}

module registryPull 'modules/registry-pull.bicep' = {
  name: '${baseName}-acrpull'
  params: {
    registryName: containerRegistryName
    principalId: identity.outputs.principalId
  }
}

module containerEnvironment 'modules/environment.bicep' = {
  name: '${baseName}-env'
  params: {
    location: location
    namePrefix: baseName
    workspaceName: monitoring.outputs.workspaceName
    gpuProfileType: gpuProfileType
    tags: allTags
  }
}

module controlApp 'modules/functionapp.bicep' = {
  name: '${baseName}-control'
  params: {
    location: location
    name: '${baseName}-control'
    environmentId: containerEnvironment.outputs.id
    workloadProfileName: containerEnvironment.outputs.consumptionProfileName
    image: '${registryPull.outputs.loginServer}/${controlImageRepository}:${imageTag}'
    registryServer: registryPull.outputs.loginServer
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    useManagedIdentity: useManagedIdentity
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    role: 'control'
    taskHubName: taskHubName
    controlTaskHubName: taskHubName
    disabledFunctions: gpuOnlyFunctions
    cpu: '2.0'
    memory: '4Gi'
    minReplicas: controlMinReplicas
    maxReplicas: controlMaxReplicas
    externalIngress: true
    tags: allTags
  }
}

module gpuWorker 'modules/functionapp.bicep' = {
  name: '${baseName}-gpu'
  params: {
    location: location
    name: '${baseName}-gpu'
    environmentId: containerEnvironment.outputs.id
    workloadProfileName: containerEnvironment.outputs.gpuProfileName
    image: '${registryPull.outputs.loginServer}/${gpuImageRepository}:${imageTag}'
    registryServer: registryPull.outputs.loginServer
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    useManagedIdentity: useManagedIdentity
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    role: 'gpu'
    // its own (idle) hub, so it never picks up the control app's orchestrations; events go to the control hub
    taskHubName: '${taskHubName}gpu'
    controlTaskHubName: taskHubName
    disabledFunctions: controlOnlyFunctions
    cpu: gpuProfileType == 'Consumption-GPU-NC8as-T4' ? '8.0' : '24.0'
    memory: gpuProfileType == 'Consumption-GPU-NC8as-T4' ? '56Gi' : '220Gi'
    minReplicas: gpuMinReplicas
    maxReplicas: gpuMaxReplicas
    externalIngress: false
    scaleQueueName: 'inference-requests'
    scaleQueueLength: gpuQueueLength
    tags: allTags
  }
}

module training 'modules/training-job.bicep' = if (!empty(trainingImage)) {
  name: '${baseName}-training'
  params: {
    location: location
    name: '${baseName}-train'
    environmentId: containerEnvironment.outputs.id
    workloadProfileName: containerEnvironment.outputs.gpuProfileName
    image: trainingImage
    registryServer: registryPull.outputs.loginServer
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    queueTriggered: trainingQueueTriggered
    tags: allTags
  }
}

output storageAccountName string = storage.outputs.name
output blobEndpoint string = storage.outputs.blobEndpoint
output controlAppName string = controlApp.outputs.name
output controlAppUrl string = 'https://${controlApp.outputs.fqdn}'
output gpuWorkerName string = gpuWorker.outputs.name
output identityClientId string = identity.outputs.clientId
output taskHubName string = taskHubName
