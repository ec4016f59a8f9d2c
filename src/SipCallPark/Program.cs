using SipCallPark.Hosting;

return await PoolHost.RunAsync(args, Console.Out, Console.Error);
