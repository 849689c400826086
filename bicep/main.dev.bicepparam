// Parameters of a dev environment:
//   az deployment group create -g rg-pipeline-dev -f bicep/main.bicep -p bicep/main.dev.bicepparam
using 'main.bicep'

param environmentName = 'dev'
param namePrefix = 'pipeline'
param containerRegistryName = 'pipelinedevacr'
param imageTag = '0.1.0'
param gpuProfileType = 'Consumption-GPU-NC8as-T4'
// true once Pipeline.Storage reads identity-based connections (docs/azure.md)
param useManagedIdentity = false
param controlMinReplicas = 1
param controlMaxReplicas = 3
param gpuMinReplicas = 0
param gpuMaxReplicas = 1
param gpuQueueLength = 4
param trainingImage = ''
param tags = {
  owner: 'pipeline-dev'
}
