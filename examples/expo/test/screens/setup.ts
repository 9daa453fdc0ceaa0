import axios from 'axios';
import { configure } from '@testing-library/react-native';

// jest-expo's fetch and XHR are React Native's; the tests talk to a real
// server over Node's HTTP stack.
axios.defaults.adapter = 'http';

// The server and the React Native transform share two cores with whatever
// else runs: give the screens time to update.
configure({ asyncUtilTimeout: 20_000 });
