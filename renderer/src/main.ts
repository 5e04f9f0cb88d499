import { mount } from 'svelte';
import App from './App.svelte';
import { pickApi } from './api/pick-api.ts';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('Missing #app element in index.html');

mount(App, { target, props: { api: pickApi() } });
