// A React Native app as users write one: the generated index (createSocket, the hooks),
// the KARL session hook and the provider, imported from the package's source as Metro
// sees it (extensionless imports, .ts files), with React Native's own components.
import { useState } from "react";
import { Button, Text, View } from "react-native";

import { KarlProvider, readProfile, useApi, useSocket, useSocketEvent, useSocketStatus } from "../../src/generated/index";
import { memoryStorage } from "../../src/storage";
import { useKarlSession } from "../../src/session";

const url = "https://karl.example";

function Lobby() {
  const api = useApi();
  const status = useSocketStatus();
  const [last, setLast] = useState("");
  useSocketEvent("new-user-connected", ({ username }) => setLast(username));
  return (
    <View>
      <Text>{`${status.state}: ${last}`}</Text>
      <Button title="profile" onPress={() => void api.getProfile().then((p) => setLast(readProfile(p).username))} />
    </View>
  );
}

function Profile() {
  const session = useKarlSession({ url, storage: memoryStorage() });
  const { socket } = useSocket({ url });
  useSocketEvent(socket, "new-message", (m) => console.log(m.text));
  return (
    <View>
      <Text>{session.username ?? "anonymous"}</Text>
      <Button title="save" onPress={() => void session.setUsername("Ada")} />
    </View>
  );
}

export default function App() {
  return (
    <KarlProvider url={url}>
      <Lobby />
      <Profile />
    </KarlProvider>
  );
}
