-- instance_is_active(instance_key): the instance's runtimeStatus (false when the instance does not exist)
-- and whether it is Pending or Running, i.e. still takes messages.
local function instance_is_active(instance_key)
  local status = redis.call('HGET', instance_key, 'runtimeStatus')
  return status, (status == 'Running' or status == 'Pending')
end
