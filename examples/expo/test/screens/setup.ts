import axios from 'axios';

// jest-expo's fetch and XHR are React Native's; the tests talk to a real
// server over Node's HTTP stack.
axios.defaults.adapter = 'http';
