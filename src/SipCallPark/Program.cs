Console.WriteLine("SipCallPark");
